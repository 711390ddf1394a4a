"""Forms of the registration pages. They turn typed text into a ``services.Submission`` or settings;
the services enforce the program's rules."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from covey.core.money import MoneyError, parse_amount
from covey.crm.forms import (
    DateInput,
    amount_field,
    amounts_by_currency_text,
    currency_choices,
    parse_amounts_by_currency,
)
from covey.crm.models import Product
from covey.partners.models import Partner
from covey.registrations.models import ConflictOutcome, DealType, RegistrationProgram
from covey.registrations.services import (
    LIMITS,
    MAX_VALUE_MINOR,
    NOTE_MAX,
    REASON_MAX,
    Submission,
    clean_minimums,
)


class RegistrationForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), to_field_name="public_id", required=True,
        help_text="The partner you register this deal for",
    )
    company_name = forms.CharField(label="Company name", max_length=LIMITS["company_name"])
    domain = forms.CharField(
        label="Web domain", max_length=LIMITS["domain"], help_text="The company's website, e.g. globex.com",
        widget=forms.TextInput(attrs={"placeholder": "example.com", "autocomplete": "off"}),
    )
    contact_name = forms.CharField(label="Contact name", max_length=LIMITS["contact_name"], required=False)
    contact_email = forms.EmailField(label="Contact e-mail", max_length=LIMITS["contact_email"], required=False)
    contact_phone = forms.CharField(label="Contact phone", max_length=LIMITS["contact_phone"], required=False)
    value = amount_field("Estimated value")
    currency = forms.ChoiceField(label="Currency", choices=())
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.none(), to_field_name="public_id", required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    expected_close = forms.DateField(label="Expected close", widget=DateInput())
    deal_type = forms.ChoiceField(label="Deal type", choices=DealType.choices, initial=DealType.NEW)
    description = forms.CharField(
        max_length=LIMITS["description"], required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the customer wants to buy and why",
    )
    evidence = forms.CharField(
        label="Joint work so far", max_length=LIMITS["evidence"], required=False,
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Meetings, demos or workshops with the customer",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.is_vendor:
            self.fields["partner"].queryset = Partner.objects.visible_to(user).order_by("name")
        else:
            del self.fields["partner"]
        self.fields["products"].queryset = Product.objects.filter(is_active=True).order_by("name")
        self.fields["currency"].choices = currency_choices()
        if not self.is_bound:
            self.fields["currency"].initial = "USD"

    def clean(self):
        data = super().clean()
        text, currency = data.get("value"), data.get("currency")
        if text and currency:
            try:
                money = parse_amount(text, currency)
            except MoneyError as exc:
                self.add_error("value", str(exc))
            else:
                if money.minor <= 0:
                    self.add_error("value", "The estimated value must be more than zero.")
                elif money.minor > MAX_VALUE_MINOR:
                    self.add_error("value", "That amount is larger than any deal Covey accepts.")
                else:
                    data["money"] = money
        return data

    def chosen_partner(self):
        return self.cleaned_data["partner"] if self.user.is_vendor else self.user.membership.partner

    def submission(self) -> Submission:
        d = self.cleaned_data
        return Submission(
            company_name=d["company_name"], domain=d["domain"], value=d["money"], expected_close=d["expected_close"],
            contact_name=d.get("contact_name", ""), contact_email=d.get("contact_email", ""),
            contact_phone=d.get("contact_phone", ""), products=list(d.get("products") or []),
            description=d.get("description", ""), evidence=d.get("evidence", ""), deal_type=d["deal_type"],
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=ConflictOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when rejecting; recorded with the decision",
    )


class ProgramForm(forms.Form):
    minimums = forms.CharField(
        label="Minimum value per currency", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, e.g. “USD 10000.00”. A currency without a line has no minimum: such "
        "registrations are accepted and flagged for the reviewer.",
    )
    allow_expansion = forms.BooleanField(
        required=False, label="Accept expansion deals", help_text="Also allows registrations on existing customers",
    )
    block_open_vendor_opportunity = forms.BooleanField(
        required=False, label="Refuse accounts where our sales team has an open opportunity",
    )
    review_sla_business_days = forms.IntegerField(label="Review within (business days)", min_value=0, max_value=60)
    protection_days = forms.IntegerField(label="Protection period (days)", min_value=1, max_value=730)
    expiry_warning_days = forms.IntegerField(label="Warn before expiry (days)", min_value=0, max_value=365)
    extension_days = forms.IntegerField(label="An extension adds (days)", min_value=1, max_value=365)
    convert_on_approval = forms.BooleanField(required=False, label="Create the opportunity on approval")

    @classmethod
    def for_program(cls, program: RegistrationProgram, data=None) -> ProgramForm:
        initial = {
            name: getattr(program, name) for name in (
                "allow_expansion", "block_open_vendor_opportunity", "review_sla_business_days", "protection_days",
                "expiry_warning_days", "extension_days", "convert_on_approval",
            )
        }
        initial["minimums"] = amounts_by_currency_text(program.minimums)
        return cls(data, initial=initial)

    def clean_minimums(self) -> dict[str, int]:
        out = parse_amounts_by_currency(self.cleaned_data.get("minimums") or "")
        try:
            return clean_minimums(out)
        except ValidationError as exc:  # the service's field dict: show its message on this field
            messages = exc.message_dict.get("minimums") or exc.messages
            raise forms.ValidationError(messages[0]) from None
