"""Forms of the plan pages; ``covey.plans.services`` enforces the rules and writes."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from covey.core.formtools import ServiceForm
from covey.core.lookup import use_lookup_when_large
from covey.core.models import User
from covey.crm.models import Opportunity
from covey.partners.models import Partner
from covey.plans.models import MAX_DAY, PlanTemplate, StageTemplate, TaskTemplate
from covey.plans.selectors import partner_people, vendor_people

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _person_label(user: User) -> str:
    return f"{user} ({user.email})"


class OpportunityPickForm(forms.Form):
    """Step one of applying a plan when no opportunity was named in the link."""

    opportunity = forms.ModelChoiceField(
        queryset=Opportunity.objects.none(), to_field_name="public_id", label="Opportunity",
        help_text="The deal the plan is for; the partner is chosen next among the partners on it.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["opportunity"]
        field.queryset = Opportunity.objects.visible_to(user).open().filter(partner_links__isnull=False).distinct().order_by("name")
        use_lookup_when_large(field, "opportunities")


class ApplyPlanForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=PlanTemplate.objects.none(), to_field_name="public_id", label="Playbook",
        help_text="Only active templates are offered.",
    )
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), to_field_name="public_id")
    start = forms.DateField(label="Start date", widget=DATE_INPUT, help_text="Day 1 of the plan.")
    partner_assignee = forms.ChoiceField(
        required=False, label="Partner-side tasks go to",
        help_text="Someone at the chosen partner; leave empty to assign later.",
    )
    vendor_assignee = forms.ChoiceField(
        required=False, label="Vendor-side tasks go to", help_text="Shared tasks go to this person too.",
    )
    name = forms.CharField(
        required=False, max_length=255, label="Plan name", help_text="Leave empty for “<deal> · <playbook>”.",
    )

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = PlanTemplate.objects.filter(is_active=True, stages__isnull=False).distinct().order_by("kind", "name")
        partners = Partner.objects.filter(opportunity_links__opportunity=opportunity).order_by("name")
        self.fields["partner"].queryset = partners
        if "start" not in self.initial:
            self.initial["start"] = timezone.localdate()
        people = [(u.public_id, f"{_person_label(u)} · {p.name}") for p in partners for u in partner_people(p)]
        self.fields["partner_assignee"].choices = [("", "Nobody yet"), *people]
        self.fields["vendor_assignee"].choices = [("", "Nobody yet"), *[(u.public_id, _person_label(u)) for u in vendor_people()]]

    @staticmethod
    def _user(public_id: str) -> User | None:
        return User.objects.filter(public_id=public_id).first() if public_id else None

    def clean_partner_assignee(self):
        return self._user(self.cleaned_data["partner_assignee"])

    def clean_vendor_assignee(self):
        return self._user(self.cleaned_data["vendor_assignee"])


class AssignForm(forms.Form):
    assignee = forms.CharField(required=False, max_length=40)

    def __init__(self, *args, choices: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = {u.public_id: u for u in choices}

    def clean_assignee(self):
        value = self.cleaned_data["assignee"].strip()
        if not value:
            return None
        if value not in self.allowed:
            raise forms.ValidationError("Pick someone from the list.")
        return self.allowed[value]


class PlanTemplateForm(ServiceForm):
    class Meta:
        model = PlanTemplate
        fields = ["name", "kind", "engagement_model", "description", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        if data.get("engagement_model") and data.get("kind") != "deal":
            self.add_error("engagement_model", "Only deal templates have an engagement model.")
        return data


class StageTemplateForm(ServiceForm):
    class Meta:
        model = StageTemplate
        fields = ["name", "start_day", "end_day", "gate_name"]
        labels = {"gate_name": "Gate (optional)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("start_day", "end_day"):
            self.fields[name].widget.attrs.update({"min": 1, "max": MAX_DAY})

    def clean(self):
        data = super().clean()
        start, end = data.get("start_day"), data.get("end_day")
        for name in ("start_day", "end_day"):
            value = data.get(name)
            if value is not None and not 1 <= value <= MAX_DAY:
                self.add_error(name, f"Give a day between 1 and {MAX_DAY}.")
        if start is not None and end is not None and end < start and "end_day" not in self.errors:
            self.add_error("end_day", "The stage cannot end before it starts.")
        return data


class TaskTemplateForm(ServiceForm):
    class Meta:
        model = TaskTemplate
        fields = ["title", "owner_side", "description", "stage"]
        labels = {"owner_side": "Done by"}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, template: PlanTemplate, with_stage: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_stage:
            self.fields["stage"].queryset = template.stages.all()
            self.fields["stage"].to_field_name = "public_id"
            self.fields["stage"].empty_label = None
            if self.instance.pk:
                self.initial["stage"] = self.instance.stage.public_id
        else:
            del self.fields["stage"]
