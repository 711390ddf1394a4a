"""Forms of the survey pages: shape only; the services check the rules."""

from __future__ import annotations

from django import forms

from covey.partners.models import PartnerType

DateInput = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    question = forms.CharField(max_length=300, required=False, help_text="Leave empty for the standard NPS question.")
    audience_all = forms.BooleanField(required=False, initial=True, label="All partner users")
    partners = forms.CharField(required=False, max_length=2000, help_text="Partner ids (ptn_…), comma-separated")
    partner_types = forms.MultipleChoiceField(choices=PartnerType.choices, required=False, widget=forms.CheckboxSelectMultiple)
    tiers = forms.CharField(required=False, max_length=300, help_text="Tier codes, comma-separated, e.g. gold, silver")
    opens_on = forms.DateField(widget=DateInput)
    closes_on = forms.DateField(widget=DateInput)
    remind_days_before = forms.IntegerField(min_value=0, max_value=60, initial=3, label="Reminder, days before closing")


class AnswerForm(forms.Form):
    score = forms.TypedChoiceField(choices=[(i, str(i)) for i in range(11)], coerce=int, widget=forms.RadioSelect,
                                   error_messages={"required": "Choose a score from 0 to 10.",
                                                   "invalid_choice": "Choose a score from 0 to 10."})
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
                              label="Anything you would like to add? (optional)")
