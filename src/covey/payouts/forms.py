"""Forms of the payout pages. They check the shape of input; the services check the rules."""

from __future__ import annotations

from django import forms

from covey.core.money import Money, MoneyError, parse_amount
from covey.crm.models import DealEventKind
from covey.payouts.statements import COMMENT_REQUIRED, MAX_FILE_MB, MAX_FILES
from covey.programs.models import Program, ProgramVersion, VersionStatus

MAX_MINOR = 10**15
PERIOD_HELP = "A fiscal quarter such as 2026Q3"
AMOUNT_HELP = "In the statement's currency; negative takes money back"


def program_choices() -> list[tuple[str, str]]:
    return [(p.public_id, p.name) for p in Program.objects.order_by("name")]


def signed_money(text: str, currency: str, *, allow_zero: bool = True) -> Money:
    try:
        money = parse_amount(text, currency)
    except MoneyError as exc:
        raise forms.ValidationError(str(exc)) from None
    if abs(money.minor) >= MAX_MINOR:
        raise forms.ValidationError("That amount is too large.")
    if not allow_zero and not money.minor:
        raise forms.ValidationError("Give an amount other than zero; to change nothing, reject the dispute.")
    return money


class ProgramField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=program_choices, **kwargs)

    def program(self, value: str) -> Program:
        return Program.objects.get(public_id=value)


class RunForm(forms.Form):
    program = ProgramField(label="Program")
    period = forms.CharField(label="Quarter", max_length=8, help_text=PERIOD_HELP)

    def clean_period(self) -> str:
        return self.cleaned_data["period"].strip().upper()

    def chosen_program(self) -> Program:
        return Program.objects.get(public_id=self.cleaned_data["program"])


class RefreshForm(RunForm):
    period = forms.CharField(label="Statement period", max_length=8, help_text="2026Q3, or 2026-08 for monthly programs")


class FxRateForm(forms.Form):
    period = forms.CharField(label="Quarter", max_length=8, help_text=PERIOD_HELP)
    currency = forms.CharField(label="Currency", max_length=3, help_text="ISO code, e.g. EUR")
    per_base = forms.CharField(label="Rate", max_length=24,
                               help_text="How many units of the base currency one unit was worth, e.g. 1.0842",
                               widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.csv,.xlsx"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class DisputeForm(forms.Form):
    comment = forms.CharField(label="What is wrong with this line?", max_length=5000,
                              error_messages={"required": COMMENT_REQUIRED}, widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label="Supporting files", required=False,
                              help_text=f"Up to {MAX_FILES} files of at most {MAX_FILE_MB} MB: PDF, PNG, JPEG, CSV or XLSX")


class ResolveForm(forms.Form):
    DECISIONS = [("accept", "Accept: post an adjustment"), ("reject", "Reject: no change")]
    decision = forms.ChoiceField(label="Decision", choices=DECISIONS, widget=forms.RadioSelect, initial="accept")
    amount = forms.CharField(label="Adjustment amount", max_length=24, required=False, help_text=AMOUNT_HELP,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    note = forms.CharField(label="Reason (the partner reads it)", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, currency: str, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "accept":
            text = (data.get("amount") or "").strip()
            if not text:
                self.add_error("amount", "Give the adjustment amount, or reject the dispute.")
            else:
                try:
                    data["amount_minor"] = signed_money(text, self.currency, allow_zero=False).minor
                except forms.ValidationError as exc:
                    self.add_error("amount", exc)
        else:
            data["amount_minor"] = 0
        return data


class BatchForm(forms.Form):
    currency = forms.ChoiceField(label="Currency")

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in currencies]


class MarkPaidForm(forms.Form):
    reference = forms.CharField(label="Payment reference", max_length=100, required=False,
                                help_text="The bank's or payment run's reference, for the partner's records")


def draft_choices() -> list[tuple[str, str]]:
    return [(v.public_id, f"{v.program.name} v{v.number}{' (pilot)' if v.pilot else ''} — draft")
            for v in ProgramVersion.objects.filter(status=VersionStatus.DRAFT).select_related("program")
            .order_by("program__name", "-number")]


class SimulateForm(forms.Form):
    version = forms.ChoiceField(label="Draft version", choices=draft_choices)
    periods = forms.MultipleChoiceField(label="Closed quarters to replay", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, quarters: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["periods"].choices = [(q, q) for q in quarters]

    def chosen_version(self) -> ProgramVersion:
        return ProgramVersion.objects.select_related("program").get(public_id=self.cleaned_data["version"])


DateInput = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DealEventForm(forms.Form):
    kind = forms.ChoiceField(label="What happened", choices=DealEventKind.choices)
    occurred_on = forms.DateField(label="On", widget=DateInput)
    amount = forms.CharField(label="Amount", max_length=24, required=False,
                             help_text="Payments and refunds, in the deal's currency",
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    note = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args, currency: str, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    def clean_amount(self) -> int | None:
        text = (self.cleaned_data.get("amount") or "").strip()
        if not text:
            return None
        money = signed_money(text, self.currency)
        if money.minor < 0:
            raise forms.ValidationError("An amount is never negative; a refund is its own kind of event.")
        return money.minor
