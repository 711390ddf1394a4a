"""Forms of the mapping pages: uploads, the column mapping, custom populations, sharing."""

from __future__ import annotations

from django import forms
from django.template.defaultfilters import filesizeformat

from covey.accountmaps.importing import ALL_FIELDS
from covey.accountmaps.models import SHAREABLE_FIELDS, SharingLevel
from covey.crm.import_views import max_upload_bytes

TOO_BIG = "“{name}” is {size}; uploads are limited to {limit}. Split the file, or map it on the server with “covey map”."


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX. Salesforce and HubSpot exports are recognised by their column names.")
    name = forms.CharField(max_length=120, required=False, help_text="Defaults to the file name.")
    partner = forms.ChoiceField(required=False)

    def __init__(self, *args, partners=None, refresh: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if refresh:
            del self.fields["name"]
        if partners is None:
            del self.fields["partner"]
        else:
            self.fields["partner"].choices = [("", "Choose the partner")] + partners
            self.fields["partner"].required = True

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(TOO_BIG.format(name=upload.name, size=filesizeformat(upload.size), limit=filesizeformat(limit)))
        return upload


class ColumnsForm(forms.Form):
    """One choice per field: which of the file's headers holds it (or none)."""

    def __init__(self, *args, headers: list[str], current: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— not in the file —")] + [(h, h) for h in headers]
        for name, label in ALL_FIELDS:
            self.fields[name] = forms.ChoiceField(label=label, choices=choices, required=False, initial=current.get(name, ""))

    def columns(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if value}


class PopulationForm(forms.Form):
    name = forms.CharField(max_length=120)
    status = forms.ChoiceField(required=False, choices=[("", "Any"), ("customer", "Customer"), ("prospect", "Prospect"),
                                                        ("former", "Former customer")])
    industry = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=100, required=False)
    region = forms.CharField(max_length=60, required=False)
    owner = forms.CharField(max_length=200, required=False, help_text="Part of the owner's name")
    employees_min = forms.IntegerField(required=False, min_value=0, max_value=2_000_000_000, label="Employees from")
    employees_max = forms.IntegerField(required=False, min_value=0, max_value=2_000_000_000, label="Employees up to")

    def filters(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "name" and v not in (None, "")}


class SharingForm(forms.Form):
    level = forms.ChoiceField(choices=SharingLevel.choices)
    fields = forms.MultipleChoiceField(choices=SHAREABLE_FIELDS, required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text="Shown with overlapping records, next to the name")
    partner = forms.CharField(required=False, max_length=40)


class IntroductionForm(forms.Form):
    note = forms.CharField(max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
