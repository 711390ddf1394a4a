"""Forms of the enablement pages."""

from __future__ import annotations

from django import forms

from covey.core.vocab import Region
from covey.enablement.models import CourseKind, ResourceKind
from covey.partners.models import Lifecycle, PartnerType

DateInput = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CourseForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=CourseKind.choices)
    url = forms.URLField(max_length=500, required=False, label="Link", assume_scheme="https")
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    certifies = forms.BooleanField(required=False, label="Completing it certifies the person")
    certification_name = forms.CharField(max_length=200, required=False)
    valid_months = forms.IntegerField(min_value=1, max_value=120, required=False, label="Certification valid for (months)")
    is_active = forms.BooleanField(required=False, initial=True, label="Open for enrolment")


class CompletionForm(forms.Form):
    course = forms.ModelChoiceField(queryset=None, to_field_name="public_id")
    partner = forms.ModelChoiceField(queryset=None, to_field_name="public_id", required=False)
    user = forms.ModelChoiceField(queryset=None, to_field_name="public_id", required=False, label="Person with a login",
                                  empty_label="Someone without a login")
    person_name = forms.CharField(max_length=200, required=False, label="Name (without a login)")
    person_email = forms.EmailField(max_length=254, required=False, label="E-mail (without a login)")
    completed_on = forms.DateField(label="Completed on", widget=DateInput)

    def __init__(self, *args, courses, partners, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses
        self.fields["user"].queryset = people
        if partners is None:
            del self.fields["partner"]
        else:
            self.fields["partner"].queryset = partners
            self.fields["partner"].required = True


class AudienceFields(forms.Form):
    partner_types = forms.MultipleChoiceField(choices=PartnerType.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                              label="Partner types", help_text="None ticked: every type")
    regions = forms.MultipleChoiceField(choices=Region.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                        help_text="None ticked: every region")
    lifecycles = forms.MultipleChoiceField(choices=Lifecycle.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                           label="Lifecycle states", help_text="None ticked: every state")


class ResourceForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ResourceKind.choices)
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    partner_types = forms.MultipleChoiceField(choices=PartnerType.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                              label="Visible to partner types", help_text="None ticked: every partner type")
    tier_codes = forms.CharField(max_length=300, required=False, label="Visible to tiers",
                                 help_text="Tier codes separated by commas, e.g. gold, platinum. Empty: every tier.")
    is_published = forms.BooleanField(required=False, initial=True, label="Published")

    def clean_tier_codes(self) -> list[str]:
        return [c.strip() for c in (self.cleaned_data.get("tier_codes") or "").split(",") if c.strip()]


class VersionForm(forms.Form):
    file = forms.FileField(required=False)
    link = forms.CharField(max_length=500, required=False, help_text="Or a link, e.g. to a video")
    note = forms.CharField(max_length=300, required=False, label="What changed")


class NewResourceForm(ResourceForm, VersionForm):
    pass


class AnnouncementForm(AudienceFields):
    title = forms.CharField(max_length=200)
    body = forms.CharField(max_length=20_000, widget=forms.Textarea(attrs={"rows": 6}))
    field_order = ["title", "body", "partner_types", "regions", "lifecycles"]


class NewsletterForm(AudienceFields):
    subject = forms.CharField(max_length=200)
    intro = forms.CharField(max_length=20_000, required=False, widget=forms.Textarea(attrs={"rows": 5}),
                            help_text="Announcements and new library resources since the last issue are added below it.")
    send_at = forms.DateTimeField(label="Send at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    field_order = ["subject", "intro", "send_at", "partner_types", "regions", "lifecycles"]
