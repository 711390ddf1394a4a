"""Forms of the partner pages. They check input; the services in ``partners.services`` write."""

from __future__ import annotations

from django import forms

from covey.core.formtools import ServiceForm
from covey.core.models import StaffRole, User
from covey.core.vocab import Segment
from covey.partners.models import Partner, PartnerRole, PartnerType

# Fields only the vendor sets: a partner admin edits its profile but not its standing or manager.
VENDOR_ONLY_FIELDS = ("lifecycle", "owner")


def partner_managers():
    return User.objects.filter(
        staff_role__in=[StaffRole.PARTNER_MANAGER, StaffRole.ADMIN], is_active=True,
    ).order_by("full_name", "email")


class PartnerForm(ServiceForm):
    website = forms.URLField(max_length=300, required=False, assume_scheme="https")
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), to_field_name="public_id", required=False,
        empty_label="No owner yet", help_text="The partner manager responsible for this partner.",
    )
    types = forms.MultipleChoiceField(
        choices=PartnerType.choices, widget=forms.CheckboxSelectMultiple, required=False,
        label="Partner types", help_text="Pick every way this partner works with you.",
    )
    segments = forms.MultipleChoiceField(
        choices=Segment.choices, widget=forms.CheckboxSelectMultiple, required=False,
        label="Customer segments",
    )

    class Meta:
        model = Partner
        fields = [
            "name", "legal_name", "website", "domain", "region", "country", "lifecycle", "owner",
            "employees", "description",
        ]
        labels = {"domain": "E-mail / web domain", "employees": "Employees"}
        help_texts = {
            "domain": "e.g. alpha.example — used to recognise the partner's people and deals.",
            "country": "Two-letter ISO code, e.g. DE.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    field_order = [
        "name", "legal_name", "website", "domain", "region", "country", "lifecycle", "owner",
        "types", "segments", "employees", "description",
    ]

    def __init__(self, *args, vendor_fields: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if vendor_fields:
            self.fields["owner"].queryset = partner_managers()
        else:
            for name in VENDOR_ONLY_FIELDS:
                del self.fields[name]
        if self.instance.pk and not self.is_bound:
            self.initial["types"] = self.instance.type_codes
            self.initial["segments"] = [s.code for s in self.instance.segments.all()]

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise forms.ValidationError("Use the two-letter ISO code, e.g. DE or US.")
        return country

    def clean_domain(self) -> str:
        domain = (self.cleaned_data.get("domain") or "").strip().lower()
        for prefix in ("https://", "http://", "www."):
            domain = domain.removeprefix(prefix)
        return domain.rstrip("/")


class MemberAddForm(forms.Form):
    email = forms.EmailField(label="E-mail", help_text="They get an e-mail with a link to choose a password.")
    full_name = forms.CharField(label="Full name", max_length=200, required=False)
    role = forms.ChoiceField(choices=PartnerRole.choices, initial=PartnerRole.REP)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "member")
        super().__init__(*args, **kwargs)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=PartnerRole.choices)
