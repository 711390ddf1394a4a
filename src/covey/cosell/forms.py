"""Forms of the deal room, escalations and the engagement rules. Services do the writing."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from covey.core.models import User
from covey.core.vocab import EngagementModel
from covey.cosell.models import (
    EngagementRules,
    EscalationLevel,
    EscalationStatus,
    MeetingKind,
    MeetingRecord,
    Side,
    TeamRole,
)
from covey.crm.forms import amounts_by_currency_text, parse_amounts_by_currency
from covey.crm.models import PartnerInvolvement
from covey.partners.models import Membership, PartnerType


class StartEngagementForm(forms.Form):
    partner = forms.ChoiceField(label="Partner")
    sourced_by_partner = forms.BooleanField(
        required=False, label="The partner brought this deal",
        help_text="Partner-sourced deals default to partner-led, the others to vendor-led.",
    )

    def __init__(self, *args, links=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.links = {link.partner.public_id: link for link in links}
        self.fields["partner"].choices = [(pid, link.partner.name) for pid, link in self.links.items()]
        if len(self.links) == 1 and not self.is_bound:
            link = next(iter(self.links.values()))
            self.initial.update(partner=link.partner.public_id, sourced_by_partner=link.role == PartnerInvolvement.SOURCED)

    def clean_partner(self):
        return self.links[self.cleaned_data["partner"]].partner


class ChangeModelForm(forms.Form):
    model = forms.ChoiceField(label="Engagement model", choices=EngagementModel.choices)
    reason = forms.CharField(label="Why", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    replan = forms.BooleanField(
        required=False, label="Apply the new model's plan",
        help_text="Creates a new plan from the model's template; the current plan and its ticked tasks are kept.",
    )


class TeamMemberForm(forms.Form):
    user = forms.ChoiceField(label="Person")
    role = forms.ChoiceField(label="Role", choices=TeamRole.choices)

    def __init__(self, *args, engagement, actor, **kwargs):
        super().__init__(*args, **kwargs)
        on_team = engagement.team.values("user_id")
        people = User.objects.filter(is_active=True).exclude(pk__in=on_team)
        partner_people = people.filter(
            pk__in=Membership.objects.filter(partner_id=engagement.partner_id).exclude(role="read_only").values("user_id")
        )
        # A partner user picks among its own colleagues; the vendor among its staff and the partner's people.
        candidates = list(partner_people)
        if actor.is_vendor:
            candidates = list(people.exclude(staff_role="")) + candidates
        self.people = {u.public_id: u for u in candidates}
        self.fields["user"].choices = [("", "Choose a person")] + [
            (u.public_id, f"{u} · {u.get_staff_role_display() if u.is_vendor else engagement.partner.name}") for u in candidates
        ]

    def clean_user(self):
        return self.people[self.cleaned_data["user"]]


class NoteForm(forms.Form):
    body = forms.CharField(label="Note", max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))


class QuestionForm(forms.Form):
    body = forms.CharField(label="Question", max_length=5_000, widget=forms.Textarea(attrs={"rows": 2}))
    to_side = forms.ChoiceField(label="Ask", choices=[(Side.VENDOR, "The vendor's team"), (Side.PARTNER, "The partner's team")])

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        if actor is not None and not self.is_bound:
            self.initial["to_side"] = Side.PARTNER if actor.is_vendor else Side.VENDOR


class AnswerForm(forms.Form):
    answer = forms.CharField(label="Answer", max_length=10_000, widget=forms.Textarea(attrs={"rows": 2}))


class MeetingRecordForm(forms.ModelForm):
    class Meta:
        model = MeetingRecord
        fields = [
            "kind", "meeting_date", "title", "agenda", "leads", "key_messages", "follow_ups",
            "learnings", "next_steps", "concerns",
        ]
        widgets = {
            "meeting_date": forms.DateInput(attrs={"type": "date"}),
            **{f: forms.Textarea(attrs={"rows": 3}) for f in (
                "agenda", "leads", "key_messages", "follow_ups", "learnings", "next_steps", "concerns",
            )},
        }
        labels = {"agenda": "Agenda and objectives", "leads": "Who leads which part", "follow_ups": "Follow-up actions"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = MeetingKind.choices

    def _post_clean(self):
        return None  # the service validates and writes

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        prep = any(data.get(f) for f in ("agenda", "leads", "key_messages", "follow_ups"))
        debrief = any(data.get(f) for f in ("learnings", "next_steps", "concerns"))
        if kind == MeetingKind.PREP and not prep:
            raise ValidationError("A prep record needs an agenda, who leads what, key messages or follow-ups.")
        if kind == MeetingKind.DEBRIEF and not debrief:
            raise ValidationError("A debrief needs what was learned, next steps or concerns.")
        return data


class EscalationRaiseForm(forms.Form):
    level = forms.TypedChoiceField(label="Level", coerce=int, choices=EscalationLevel.choices, initial=EscalationLevel.REP)
    reason = forms.CharField(label="What is blocked", max_length=5_000, widget=forms.Textarea(attrs={"rows": 2}))


class EscalationStatusForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", choices=[(EscalationStatus.OPEN, "Open"), (EscalationStatus.IN_PROGRESS, "In progress")],
    )


class EscalationResolveForm(forms.Form):
    resolution = forms.CharField(label="Resolution", max_length=5_000, widget=forms.Textarea(attrs={"rows": 3}))


class RulesForm(forms.Form):
    small_deal = forms.CharField(
        label="Small-deal thresholds", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One currency per line, e.g. “USD 15000.00”. Deals below get the simplified playbook.",
    )
    strategic_value = forms.CharField(
        label="Strategic deal values", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One currency per line. Strategic partners co-sell deals of at least this value.",
    )
    strategic_partner_types = forms.MultipleChoiceField(
        label="Also strategic", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[c for c in PartnerType.choices if c[0] != "strategic_alliance"],
        help_text="Strategic alliances always are; tick other partner types to treat as strategic.",
    )
    stalled_days = forms.IntegerField(label="Escalate after days in one stage", min_value=1, max_value=365)
    prospect_silent_days = forms.IntegerField(label="Escalate after days without activity", min_value=1, max_value=365)

    @classmethod
    def for_rules(cls, rules: EngagementRules, data=None) -> RulesForm:
        return cls(data, initial={
            "small_deal": amounts_by_currency_text(rules.small_deal_minor),
            "strategic_value": amounts_by_currency_text(rules.strategic_minor),
            "strategic_partner_types": rules.strategic_partner_types,
            "stalled_days": rules.stalled_days,
            "prospect_silent_days": rules.prospect_silent_days,
        })

    def clean_small_deal(self):
        return parse_amounts_by_currency(self.cleaned_data["small_deal"], positive="threshold")

    def clean_strategic_value(self):
        return parse_amounts_by_currency(self.cleaned_data["strategic_value"], positive="value")

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "small_deal_minor": data["small_deal"],
            "strategic_minor": data["strategic_value"],
            "strategic_partner_types": sorted(data["strategic_partner_types"]),
            "stalled_days": data["stalled_days"],
            "prospect_silent_days": data["prospect_silent_days"],
        }
