"""Forms of the MDF pages: shape only (text → values); the services check the rules.

Amounts are typed in the budget's currency ("4,200.00") and parsed exactly; the currency is never
chosen in these forms because a budget, its allocations and its requests share one.
"""

from __future__ import annotations

from django import forms

from covey.core.money import Money
from covey.crm.forms import amount_field, parse_money
from covey.mdf.models import ActivityType, FileKind

DateInput = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks their type and size."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data] if data else single(None, initial)
        return single(data, initial)


def _minor(form: forms.Form, name: str, currency: str, *, required: bool = True) -> int | None:
    text = form.cleaned_data.get(name)
    if text in (None, ""):
        if required:
            form.add_error(name, "Give an amount, e.g. 4,200.00.")
        return None
    try:
        return parse_money(text, currency).minor
    except forms.ValidationError as exc:
        form.add_error(name, exc)
        return None


class BudgetForm(forms.Form):
    program = forms.ChoiceField(label="Program")
    period_key = forms.CharField(label="Quarter", max_length=8, help_text="e.g. 2026Q3")
    amount = amount_field("Budget", help_text="In the program's currency")
    second_approval_above = amount_field("Second approval above", required=False,
                                         help_text="Approvals larger than this also need an admin; empty: never")
    claim_days = forms.IntegerField(label="Claims due (days after the activity)", min_value=1, max_value=365, initial=60)

    def __init__(self, *args, programs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.programs = {p.public_id: p for p in programs}
        self.fields["program"].choices = [(p.public_id, f"{p.name} ({p.currency})") for p in programs]

    def clean(self):
        data = super().clean()
        program = self.programs.get(data.get("program") or "")
        if program is not None:
            data["amount_minor"] = _minor(self, "amount", program.currency)
            data["second_minor"] = _minor(self, "second_approval_above", program.currency, required=False)
            data["program_obj"] = program
        return data


class AdjustForm(forms.Form):
    amount = amount_field("New allocation")
    reason = forms.CharField(label="Reason", max_length=500)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean(self):
        data = super().clean()
        data["amount_minor"] = _minor(self, "amount", self.currency)
        return data


class RequestForm(forms.Form):
    allocation = forms.ChoiceField(label="Fund from")
    activity_type = forms.ChoiceField(label="Activity", choices=ActivityType.choices)
    title = forms.CharField(label="Title", max_length=160)
    description = forms.CharField(label="What you will do", required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    starts_on = forms.DateField(label="Starts", widget=DateInput)
    ends_on = forms.DateField(label="Ends", widget=DateInput)
    planned_cost = amount_field("Planned cost", help_text="The whole cost, before the split")
    co_investment_percent = forms.CharField(label="Your co-investment (%)", max_length=8, initial="0",
                                            help_text="The share of the cost you pay yourselves, e.g. 30")
    expected_leads = forms.IntegerField(label="Expected leads", min_value=0, max_value=10**9, initial=0)
    expected_pipeline = amount_field("Expected pipeline", required=False)
    campaign_code = forms.CharField(label="Campaign code", max_length=40,
                                    help_text="Put it on the opportunities this activity brings, so they count for its ROI")

    def __init__(self, *args, allocations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.allocations = {a.public_id: a for a in allocations}
        self.fields["allocation"].choices = [
            (a.public_id, f"{a.budget.program.name} {a.budget.period_key}: "
                          f"{Money(a.available_minor, a.budget.currency).plain()} available") for a in allocations]

    def clean(self):
        data = super().clean()
        allocation = self.allocations.get(data.get("allocation") or "")
        if allocation is not None:
            currency = allocation.budget.currency
            data["planned_cost_minor"] = _minor(self, "planned_cost", currency)
            data["expected_pipeline_minor"] = _minor(self, "expected_pipeline", currency, required=False) or 0
            data["allocation_obj"] = allocation
        return data


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label="Decision", choices=[("approve", "Approve"), ("reject", "Reject")])
    approved_amount = amount_field("Approve", required=False, help_text="Empty: the whole requested amount")
    reason = forms.CharField(label="Reason", max_length=1000, required=False,
                             help_text="Required for a partial approval or a rejection")

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean(self):
        data = super().clean()
        data["approved_minor"] = _minor(self, "approved_amount", self.currency, required=False)
        return data


class SecondApprovalForm(forms.Form):
    decision = forms.ChoiceField(label="Decision", choices=[("approve", "Confirm"), ("reject", "Reject")])
    reason = forms.CharField(label="Reason", max_length=1000, required=False, help_text="Required to reject")


class ClaimForm(forms.Form):
    actual_cost = amount_field("Actual cost", help_text="The whole cost, as on the invoices")
    claimed_amount = amount_field("Amount claimed", required=False,
                                  help_text="Empty: the most you can get — the approved amount or the vendor share of the actual cost")
    invoices = MultipleFileField(label="Invoices", required=False,
                                 help_text="PDF, PNG, JPEG, CSV or XLSX, at most 5 MB each")
    other_proof = MultipleFileField(label="Screenshots, attendee lists", required=False)
    leads_file = forms.FileField(label="Lead list (CSV)", required=False, help_text="One lead per row under a header row")
    leads_count = forms.IntegerField(label="…or leads delivered", required=False, min_value=0, max_value=10**9)
    note = forms.CharField(label="Note", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean(self):
        data = super().clean()
        data["actual_cost_minor"] = _minor(self, "actual_cost", self.currency)
        data["claimed_minor"] = _minor(self, "claimed_amount", self.currency, required=False)
        return data

    def proof(self, files) -> list[tuple[str, object]]:
        return ([(FileKind.INVOICE, f) for f in files.getlist("invoices")]
                + [(FileKind.OTHER, f) for f in files.getlist("other_proof")])


class ClaimDecideForm(forms.Form):
    decision = forms.ChoiceField(label="Decision", choices=[("approve", "Approve and reimburse"), ("reject", "Reject")])
    note = forms.CharField(label="Note", max_length=1000, required=False, help_text="Required to reject")
