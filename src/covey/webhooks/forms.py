from __future__ import annotations

from django import forms

from covey.webhooks.events import EVENTS


class EndpointForm(forms.Form):
    url = forms.CharField(label="Payload URL", max_length=500, help_text="Receives a signed POST for each event")
    description = forms.CharField(label="Description", max_length=200, required=False)
    events = forms.MultipleChoiceField(label="Events", choices=[(k, f"{k} — {v}") for k, v in EVENTS.items()],
                                       widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
