"""Forms of the agreement pages."""

from __future__ import annotations

from django import forms

from covey.agreements.models import AgreementTemplate


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=500, required=False)
    title = forms.CharField(max_length=200, label="Agreement title")
    body = forms.CharField(max_length=100_000, widget=forms.Textarea(attrs={"rows": 16}), help_text="Markdown: # headings, **bold**, lists")


class VersionForm(forms.Form):
    title = forms.CharField(max_length=200, label="Agreement title")
    body = forms.CharField(max_length=100_000, widget=forms.Textarea(attrs={"rows": 16}))
    change_note = forms.CharField(max_length=300, required=False, label="What changed")


class IssueForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=None, to_field_name="public_id")
    template = forms.ModelChoiceField(queryset=None, to_field_name="public_id", label="Agreement")

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        self.fields["template"].queryset = AgreementTemplate.objects.filter(is_active=True, versions__isnull=False).distinct()


class SignForm(forms.Form):
    name = forms.CharField(max_length=200, label="Your full name", help_text="Typing your name is your signature.")
    consent = forms.BooleanField(required=False, label="I have read this agreement and accept it on behalf of my company")
