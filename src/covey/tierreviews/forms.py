"""Forms of the tier review pages: shape only; the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils import timezone

DateInput = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RunForm(forms.Form):
    program = forms.ChoiceField(label="Program")

    def __init__(self, *args, programs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(p.public_id, p.name) for p in programs]


class DecideForm(forms.Form):
    tier_code = forms.ChoiceField(label="Tier", required=False)
    reason = forms.CharField(label="Reason", max_length=500, required=False,
                             help_text="Required when you choose a different tier than proposed")

    def __init__(self, *args, tiers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier_code"].choices = [("", "As proposed")] + [(t.code, t.name) for t in tiers]


class SatisfactionForm(forms.Form):
    score = forms.CharField(label="Score (0–10)", max_length=5, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    measured_on = forms.DateField(label="Measured on", widget=DateInput, initial=timezone.localdate)
    source = forms.CharField(label="Source", max_length=120, help_text="e.g. Q3 CSAT survey, 41 answers")
