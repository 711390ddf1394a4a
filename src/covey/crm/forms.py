"""Forms of the CRM pages. They turn typed text into values (amounts through core.money); the
services in ``crm.services`` enforce the rules and write."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from covey.core.formtools import ServiceForm
from covey.core.lookup import use_lookup_when_large
from covey.core.models import User, VendorSettings
from covey.core.money import Money, MoneyError, all_currencies, parse_amount
from covey.crm.models import (
    Account,
    Activity,
    Opportunity,
    PartnerInvolvement,
    Product,
)
from covey.partners.models import Partner

# Far above any real deal, far below the 64-bit column limit: a typo like 10^20 gets a message, not a 500.
MAX_MINOR = 10**15
AMOUNT_TOO_LARGE = "That amount is too large."
AMOUNT_NEGATIVE = "The amount cannot be negative."


def staff_users():
    return User.objects.exclude(staff_role="").filter(is_active=True).order_by("full_name", "email")


def currency_choices():
    return [(c, c) for c in all_currencies()]


def amount_field(label: str, *, required: bool = True, help_text: str = "") -> forms.CharField:
    # A text box, not a number input: people type "48,000.00", and browsers would reject the comma.
    return forms.CharField(
        label=label, required=required, max_length=40, help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}),
    )


def parse_money(text: str, currency: str) -> Money:
    """Typed text → Money, or a ValidationError with the message to show next to the field."""
    try:
        money = parse_amount(text, currency)
    except MoneyError as exc:
        raise forms.ValidationError(str(exc)) from None
    if money.minor < 0:
        raise forms.ValidationError(AMOUNT_NEGATIVE)
    if money.minor >= MAX_MINOR:
        raise forms.ValidationError(AMOUNT_TOO_LARGE)
    return money


def amount_text(money: Money) -> str:
    """Money → the plain decimal a person edits ("48000.00")."""
    return f"{money.amount:f}"


def amounts_by_currency_text(values: dict) -> str:
    """{"USD": 1500000} → "USD 15000.00", one currency a line (what a program-rules form edits).
    Entries that are not money (a code no longer valid, say) are left out rather than shown wrong."""
    lines = []
    for currency, minor in sorted((values or {}).items()):
        try:
            lines.append(f"{currency} {amount_text(Money(int(minor), currency))}")
        except (MoneyError, TypeError, ValueError):
            continue
    return "\n".join(lines)


def parse_amounts_by_currency(text: str, *, positive: str = "") -> dict[str, int]:
    """"USD 15000.00" a line → {"USD": 1500000}, exactly; every line's problem is named ("Line 2: …").

    ``positive`` names the amount ("threshold") when each must be above zero and realistic.
    """
    out: dict[str, int] = {}
    problems = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            problems.append(f"Line {number}: write a currency code and an amount, e.g. “USD 15000.00”.")
            continue
        currency, amount = parts[0].upper(), parts[1]
        if currency in out:
            problems.append(f"Line {number}: {currency} is listed twice.")
            continue
        try:
            money = parse_amount(amount, currency)
        except MoneyError as exc:
            problems.append(f"Line {number}: {exc}")
            continue
        if positive and not 0 < money.minor <= MAX_MINOR:
            problems.append(f"Line {number}: the {positive} must be above zero and realistic.")
            continue
        out[currency] = money.minor
    if problems:
        raise forms.ValidationError(problems)
    return out


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


# --- accounts --------------------------------------------------------------------------------


class AccountForm(ServiceForm):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="public_id", required=False, empty_label="No owner")

    class Meta:
        model = Account
        fields = [
            "name", "domain", "website", "industry", "region", "country", "city", "phone", "segment",
            "employees", "status", "owner", "external_id", "description",
        ]
        labels = {"external_id": "CRM id"}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()

    def clean_domain(self) -> str:
        domain = (self.cleaned_data.get("domain") or "").strip().lower()
        for prefix in ("https://", "http://", "www."):
            domain = domain.removeprefix(prefix)
        return domain.rstrip("/")

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise forms.ValidationError("Use the two-letter ISO code, e.g. DE or US.")
        return country

    def clean_external_id(self) -> str | None:
        # Blank means "not linked"; the column is unique, so it must be NULL, not "".
        return (self.cleaned_data.get("external_id") or "").strip() or None


# --- opportunities ---------------------------------------------------------------------------


class OpportunityForm(ServiceForm):
    account = forms.ModelChoiceField(queryset=Account.objects.none(), to_field_name="public_id", empty_label="Choose an account")
    owner = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="public_id", required=False, empty_label="No owner")
    amount = amount_field("Amount", help_text="In the currency below, e.g. 48,000.00")
    currency = forms.ChoiceField(choices=currency_choices)

    class Meta:
        model = Opportunity
        fields = [
            "name", "account", "owner", "stage", "type", "close_date", "lost_reason", "lead_source",
            "campaign_code", "description",
        ]
        widgets = {"close_date": DateInput(), "description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"lost_reason": "Required when the stage is Closed Lost."}

    field_order = [
        "name", "account", "owner", "stage", "type", "amount", "currency", "close_date", "lost_reason",
        "lead_source", "campaign_code", "description",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.visible_to(user)
        use_lookup_when_large(self.fields["account"], "accounts")
        self.fields["owner"].queryset = staff_users()
        self.has_lines = bool(self.instance.pk and self.instance.lines.exists())
        if self.instance.pk:
            self.initial.setdefault("amount", amount_text(self.instance.amount))
            self.initial.setdefault("currency", self.instance.currency)
        else:
            self.initial.setdefault("currency", VendorSettings.current().base_currency)
        if self.has_lines:
            # With product lines the amount is their total; the service keeps it so.
            self.fields["amount"].disabled = True
            self.fields["amount"].required = False
            self.fields["amount"].help_text = "The total of the product lines below."

    def clean(self):
        data = super().clean()
        currency = data.get("currency")
        if not self.has_lines and currency and data.get("amount") is not None and "amount" not in self.errors:
            try:
                data["amount_minor"] = parse_money(data["amount"], currency).minor
            except forms.ValidationError as exc:
                self.add_error("amount", exc)
        return data

    def service_values(self) -> dict:
        values = self.values("name", "account", "owner", "stage", "type", "close_date", "lost_reason", "lead_source", "campaign_code", "description", "currency")
        if "amount_minor" in self.cleaned_data:
            values["amount_minor"] = self.cleaned_data["amount_minor"]
        return values


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True), to_field_name="public_id", empty_label="Choose a product",
    )
    quantity = forms.IntegerField(min_value=1, max_value=1_000_000, initial=1)
    unit_price = amount_field("Unit price", required=False, help_text="Leave empty for the list price.")
    discount = amount_field("Discount", required=False, help_text="Total off the line.")

    def __init__(self, *args, currency: str, **kwargs):
        kwargs.setdefault("prefix", "line")
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_unit_price(self) -> int | None:
        text = (self.cleaned_data.get("unit_price") or "").strip()
        return parse_money(text, self.currency).minor if text else None

    def clean_discount(self) -> int:
        text = (self.cleaned_data.get("discount") or "").strip()
        return parse_money(text, self.currency).minor if text else 0


class PartnerLinkForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), to_field_name="public_id", empty_label="Choose a partner")
    role = forms.ChoiceField(choices=PartnerInvolvement.choices)
    is_primary = forms.BooleanField(required=False, label="Primary partner", help_text="The first partner on a deal is always primary.")

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("prefix", "partner")
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.visible_to(user).order_by("name")
        use_lookup_when_large(self.fields["partner"], "partners")


# --- activities ------------------------------------------------------------------------------


class ActivityForm(ServiceForm):
    """Vendor users pick the partner (one of the opportunity's partners, or none); a partner user's
    activity is always its own partner's, so the field is not shown to them."""

    opportunity = forms.ModelChoiceField(queryset=Opportunity.objects.none(), to_field_name="public_id", required=False, empty_label="No opportunity")
    account = forms.ModelChoiceField(queryset=Account.objects.none(), to_field_name="public_id", required=False, empty_label="No account",
                                     help_text="Taken from the opportunity when one is chosen.")
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), to_field_name="public_id", required=False, empty_label="No partner")
    evidence_url = forms.URLField(
        label="Evidence link", max_length=500, required=False, assume_scheme="https",
        help_text="Link to a recording, deck or e-mail thread.",
    )
    occurred_at = forms.DateTimeField(label="When", widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])

    class Meta:
        model = Activity
        fields = ["kind", "subject", "occurred_at", "opportunity", "account", "partner", "is_joint", "evidence_url", "notes"]
        labels = {"is_joint": "Joint activity"}
        widgets = {"notes": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, user, opportunity: Opportunity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["opportunity"].queryset = Opportunity.objects.visible_to(user).select_related("account").order_by("name")
        use_lookup_when_large(self.fields["opportunity"], "opportunities")
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))
        if opportunity is not None:
            self.initial["opportunity"] = opportunity.public_id
        if user.is_vendor:
            self.fields["account"].queryset = Account.objects.visible_to(user).order_by("name")
            use_lookup_when_large(self.fields["account"], "accounts")
            partners = Partner.objects.visible_to(user).order_by("name")
            if opportunity is not None:
                partners = partners.filter(opportunity_links__opportunity=opportunity)
            self.fields["partner"].queryset = partners
            use_lookup_when_large(self.fields["partner"], "partners")
            self.fields["partner"].help_text = "One of the opportunity's partners, or none."
        else:
            del self.fields["account"]
            del self.fields["partner"]

    def clean(self):
        data = super().clean()
        opportunity, partner = data.get("opportunity"), data.get("partner")
        if opportunity is not None and partner is not None and not opportunity.partner_links.filter(partner=partner).exists():
            self.add_error("partner", f"{partner.name} is not on {opportunity.name}; pick one of its partners or none.")
        if opportunity is not None and "account" in self.fields:
            data["account"] = opportunity.account
        return data


# --- products --------------------------------------------------------------------------------


class ProductForm(ServiceForm):
    unit_price = amount_field("List price", help_text="Per unit per year for subscriptions.")
    currency = forms.ChoiceField(choices=currency_choices)

    class Meta:
        model = Product
        fields = ["name", "code", "family", "recurring", "is_active"]
        labels = {"is_active": "Available for new deals", "recurring": "Recurring (billed yearly)"}

    field_order = ["name", "code", "family", "unit_price", "currency", "recurring", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("unit_price", amount_text(self.instance.unit_price))
            self.initial.setdefault("currency", self.instance.currency)
        else:
            self.initial.setdefault("currency", VendorSettings.current().base_currency)

    def clean(self):
        data = super().clean()
        if data.get("currency") and data.get("unit_price") is not None and "unit_price" not in self.errors:
            try:
                data["unit_price_minor"] = parse_money(data["unit_price"], data["currency"]).minor
            except forms.ValidationError as exc:
                self.add_error("unit_price", exc)
        return data

    def service_values(self) -> dict:
        values = self.values("name", "code", "family", "recurring", "is_active", "currency")
        values["unit_price_minor"] = self.cleaned_data["unit_price_minor"]
        return values
