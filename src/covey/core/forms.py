from __future__ import annotations

from django import forms

from covey.core.models import ApiToken, VendorSettings


class VendorSettingsForm(forms.ModelForm):
    class Meta:
        model = VendorSettings
        fields = ["company_name", "domain", "base_currency", "fiscal_year_start_month"]
        widgets = {
            "fiscal_year_start_month": forms.Select(
                choices=[(i, m) for i, m in enumerate(
                    ["January", "February", "March", "April", "May", "June", "July", "August",
                     "September", "October", "November", "December"], start=1)]
            )
        }
        help_texts = {
            "base_currency": "ISO 4217 code used for reporting, e.g. USD or EUR.",
            "fiscal_year_start_month": "Quarters and years in reports and payouts follow this.",
        }

    def clean_base_currency(self):
        return self.cleaned_data["base_currency"].strip().upper()


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “CRM sync”.")
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, widget=forms.RadioSelect,
        help_text="A read-only token can fetch anything you can see and change nothing.",
    )
