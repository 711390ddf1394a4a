"""Forms of the joint proposal and account plan pages. They turn typed text into values (money
through core.money, percents through joint.rules); ``covey.joint.services`` enforces the rules."""

from __future__ import annotations

from django import forms

from covey.core.formtools import ServiceForm
from covey.core.lookup import use_lookup_when_large
from covey.core.models import User
from covey.crm.forms import DateInput, amount_field, parse_money, staff_users
from covey.crm.models import Account, Opportunity, Product
from covey.joint import rules
from covey.joint.models import JointAccountPlan, JointProposal, Side
from covey.joint.services import MAX_QUANTITY
from covey.partners.models import Partner


def percent_field(label: str = "Discount %") -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=10, help_text="0 to 100, at most two decimals.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0", "size": 6}),
    )


def clean_percent(text: str):
    try:
        return rules.parse_percent((text or "").strip() or "0")
    except rules.PricingError as exc:
        raise forms.ValidationError(str(exc)) from None


def partner_users(partner: Partner | None = None):
    users = User.objects.filter(is_active=True, staff_role="")
    if partner is not None:
        users = users.filter(pk__in=partner.memberships.values("user_id"))
    return users.order_by("full_name", "email")


def _quantity_field() -> forms.IntegerField:
    return forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1, widget=forms.NumberInput(attrs={"size": 6}))


# --- proposals -------------------------------------------------------------------------------


class ProposalCreateForm(forms.Form):
    """Vendor staff pick the partner among the deal's; a partner user's proposal is always its own."""

    opportunity = forms.ModelChoiceField(queryset=Opportunity.objects.none(), to_field_name="public_id", empty_label="Choose an opportunity")
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), to_field_name="public_id", empty_label="Choose a partner",
                                     help_text="One of the opportunity's partners.")
    title = forms.CharField(max_length=200, required=False, help_text="Leave empty for “<opportunity> — joint proposal”.")
    valid_until = forms.DateField(required=False, widget=DateInput())
    notes = forms.CharField(required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, user, opportunity: Opportunity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["opportunity"].queryset = Opportunity.objects.visible_to(user).open().select_related("account").order_by("name")
        use_lookup_when_large(self.fields["opportunity"], "opportunities")
        if opportunity is not None:
            self.initial["opportunity"] = opportunity.public_id
        if user.is_vendor:
            partners = Partner.objects.visible_to(user).order_by("name")
            if opportunity is not None:
                partners = partners.filter(opportunity_links__opportunity=opportunity)
                if partners.count() == 1:
                    self.initial["partner"] = partners.first().public_id
            self.fields["partner"].queryset = partners
            use_lookup_when_large(self.fields["partner"], "partners")
        else:
            del self.fields["partner"]

    def service_values(self) -> dict:
        data = self.cleaned_data
        partner = data["partner"] if "partner" in self.fields else self.user.membership.partner
        return {
            "opportunity": data["opportunity"], "partner": partner, "title": data["title"],
            "valid_until": data["valid_until"], "notes": data["notes"],
        }


class ProposalForm(ServiceForm):
    class Meta:
        model = JointProposal
        fields = ["title", "valid_until", "notes"]
        widgets = {"valid_until": DateInput(), "notes": forms.Textarea(attrs={"rows": 5})}
        help_texts = {"notes": "Scope, assumptions and terms the customer should read."}


class VendorLineForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(), to_field_name="public_id", empty_label="Choose a product",
    )
    quantity = _quantity_field()
    discount_percent = percent_field()

    def __init__(self, *args, currency: str, **kwargs):
        kwargs.setdefault("prefix", "vendor")
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_active=True, currency=currency).order_by("name")
        self.fields["product"].help_text = f"Catalogue products priced in {currency}, at list price."

    def clean_discount_percent(self):
        return clean_percent(self.cleaned_data.get("discount_percent"))


class PartnerLineForm(forms.Form):
    description = forms.CharField(max_length=300, label="Service")
    quantity = _quantity_field()
    unit_price = amount_field("Unit price")

    def __init__(self, *args, currency: str, **kwargs):
        kwargs.setdefault("prefix", "service")
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["unit_price"].help_text = f"In {currency}."

    def clean_unit_price(self) -> int:
        return parse_money(self.cleaned_data.get("unit_price") or "", self.currency).minor


class VendorLineEditForm(forms.Form):
    quantity = _quantity_field()
    discount_percent = percent_field()

    def clean_discount_percent(self):
        return clean_percent(self.cleaned_data.get("discount_percent"))


class PartnerLineEditForm(PartnerLineForm):
    def __init__(self, *args, currency: str, **kwargs):
        kwargs.setdefault("prefix", "edit")
        super().__init__(*args, currency=currency, **kwargs)

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {"description": data["description"], "quantity": data["quantity"], "unit_price_minor": data["unit_price"]}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve the pricing"), ("changes", "Request changes")], widget=forms.RadioSelect)
    note = forms.CharField(required=False, max_length=2_000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Required when you request changes; the submitter reads it.")


class MarkForm(forms.Form):
    status = forms.ChoiceField(choices=[("sent", "Sent"), ("accepted", "Accepted"), ("declined", "Declined")])


# --- account plans ---------------------------------------------------------------------------


class PlanForm(ServiceForm):
    account = forms.ModelChoiceField(queryset=Account.objects.none(), to_field_name="public_id", empty_label="Choose an account")
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), to_field_name="public_id", empty_label="Choose a partner")
    target_products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.none(), to_field_name="public_id", required=False, widget=forms.CheckboxSelectMultiple,
    )
    vendor_owner = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="public_id", required=False, empty_label="No owner")
    partner_owner = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="public_id", required=False, empty_label="No owner")

    class Meta:
        model = JointAccountPlan
        # target_products is a plain form field: ServiceForm's initial values handle foreign keys, not M2M.
        fields = ["title", "account", "partner", "status", "vendor_goals", "partner_goals",
                  "vendor_owner", "partner_owner", "period_start", "period_end"]
        widgets = {
            "vendor_goals": forms.Textarea(attrs={"rows": 4}), "partner_goals": forms.Textarea(attrs={"rows": 4}),
            "period_start": DateInput(), "period_end": DateInput(),
        }
        labels = {"vendor_goals": "Our goals (vendor)", "partner_goals": "Partner's goals"}

    def __init__(self, *args, user, account: Account | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        plan = self.instance if self.instance.pk else None
        self.fields["target_products"].queryset = Product.objects.filter(is_active=True).order_by("name")
        self.fields["vendor_owner"].queryset = staff_users()
        if plan is not None:
            # The account and partner make the plan what it is; they do not change afterwards.
            del self.fields["account"]
            del self.fields["partner"]
            self.initial["target_products"] = [p.public_id for p in plan.target_products.all()]
            self.fields["partner_owner"].queryset = partner_users(plan.partner)
            return
        self.fields["account"].queryset = Account.objects.visible_to(user).order_by("name")
        use_lookup_when_large(self.fields["account"], "accounts")
        if account is not None:
            self.initial["account"] = account.public_id
        if user.is_vendor:
            self.fields["partner"].queryset = Partner.objects.visible_to(user).order_by("name")
            use_lookup_when_large(self.fields["partner"], "partners")
            self.fields["partner_owner"].queryset = partner_users()
            self.fields["partner_owner"].help_text = "A user of the partner chosen above."
        else:
            del self.fields["partner"]
            self.fields["partner_owner"].queryset = partner_users(user.membership.partner)
            self.initial.setdefault("partner_owner", user.public_id)

    def service_values(self) -> dict:
        values = self.values()
        if self.instance.pk is None and "partner" not in self.fields:
            values["partner"] = self.user.membership.partner
        return values


class StepForm(forms.Form):
    text = forms.CharField(max_length=500, label="Next step")
    owner_side = forms.ChoiceField(choices=Side.choices, label="Side")
    owner = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="public_id", required=False, empty_label="Nobody yet")
    due_date = forms.DateField(required=False, widget=DateInput())

    def __init__(self, *args, plan: JointAccountPlan, **kwargs):
        kwargs.setdefault("prefix", "step")
        super().__init__(*args, **kwargs)
        people = staff_users() | partner_users(plan.partner)
        self.fields["owner"].queryset = people.order_by("full_name", "email")
        self.fields["owner"].help_text = f"Vendor staff for a vendor step, a user of {plan.partner.name} for a partner step."


class LinkOpportunityForm(forms.Form):
    opportunity = forms.ModelChoiceField(queryset=Opportunity.objects.none(), to_field_name="public_id", empty_label="Choose an opportunity")

    def __init__(self, *args, plan: JointAccountPlan, user, **kwargs):
        kwargs.setdefault("prefix", "link")
        super().__init__(*args, **kwargs)
        self.fields["opportunity"].queryset = (
            Opportunity.objects.visible_to(user).filter(account_id=plan.account_id)
            .exclude(pk__in=plan.opportunities.values("pk")).order_by("name")
        )
