from __future__ import annotations

from decimal import Decimal

from django import forms

from covey.analytics.models import MONEY_MEASURES, ActiveRule, Measure
from covey.core.money import MoneyError, parse_amount

PARTNER_OR_TIER = "Set the target for one partner or for one tier, not both and not neither."


class TargetForm(forms.Form):
    period = forms.CharField(max_length=8, help_text="Fiscal quarter, e.g. 2026Q3")
    partner = forms.CharField(max_length=40, required=False, help_text="Partner id (leave empty for a tier target)")
    tier_code = forms.SlugField(max_length=30, required=False, label="Tier", help_text="Tier code, e.g. gold")
    measure = forms.ChoiceField(choices=Measure.choices)
    value = forms.CharField(max_length=30, help_text="Money in the base currency (12500.00), counts (4), "
                                                     "rates as a percentage (35)")

    def __init__(self, *args, base_currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.base_currency = base_currency

    def clean(self):
        data = super().clean()
        if bool(data.get("partner")) == bool(data.get("tier_code")):
            raise forms.ValidationError(PARTNER_OR_TIER)
        return clean_value(self, data, data.get("measure"))


BAD_VALUE = "Enter a non-negative number, e.g. 12500.00, 4 or 35."


def clean_value(form: forms.Form, data: dict, measure: str | None) -> dict:
    """``data["value"]`` as ``amount_minor`` (money measures) or ``number`` (win rates typed as a percentage)."""
    text = (data.get("value") or "").strip()
    if measure and text:
        try:
            if measure in MONEY_MEASURES:
                data["amount_minor"], data["number"] = parse_amount(text, form.base_currency).minor, None
            else:
                number = Decimal(text.replace(",", ""))
                if not number.is_finite() or number < 0:
                    raise ValueError
                data["amount_minor"] = None
                data["number"] = number / 100 if measure == Measure.WIN_RATE else number
        except (MoneyError, ValueError, ArithmeticError):
            form.add_error("value", BAD_VALUE)
    return data


class TargetValueForm(forms.Form):
    """A target's new value; its quarter, measure and partner or tier stay (set another target for those)."""

    value = forms.CharField(max_length=30, help_text="Money in the base currency (12500.00), counts (4), "
                                                     "rates as a percentage (35)")

    def __init__(self, *args, measure: str, base_currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.measure, self.base_currency = measure, base_currency

    def clean(self):
        return clean_value(self, super().clean(), self.measure)


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=5000, label="Notes")


class SettingsForm(forms.Form):
    active_rule = forms.ChoiceField(choices=ActiveRule.choices, label="A partner is active with")
    overhead = forms.CharField(max_length=30, label="Program overhead per quarter (base currency)")
    green_percent = forms.DecimalField(min_value=1, max_value=1000, decimal_places=0, label="Green from (% of target)")
    amber_percent = forms.DecimalField(min_value=1, max_value=1000, decimal_places=0, label="Amber from (% of target)")

    def __init__(self, *args, base_currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.base_currency = base_currency

    def clean(self):
        data = super().clean()
        try:
            money = parse_amount((data.get("overhead") or "0").strip(), self.base_currency)
            if money.minor < 0:
                raise MoneyError("negative")
            data["overhead_minor"] = money.minor
        except MoneyError:
            self.add_error("overhead", "Enter an amount such as 25000.00.")
        green, amber = data.get("green_percent"), data.get("amber_percent")
        if green is not None and amber is not None and amber > green:
            raise forms.ValidationError("Amber must start at or below green.")
        return data
