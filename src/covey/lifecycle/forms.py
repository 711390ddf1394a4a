"""Forms of the lifecycle pages. They check the shape of input; the services check the rules."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from covey.core.vocab import Region, Segment
from covey.lifecycle.models import GoalMetric, ScaleKind
from covey.lifecycle.services import LIMITS, MAX_EMPLOYEES, ApplicationInput
from covey.partners.models import Lifecycle, PartnerType

DateInput = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ApplicationForm(forms.Form):
    company_name = forms.CharField(label="Company name", max_length=LIMITS["company_name"])
    website = forms.CharField(label="Website", max_length=LIMITS["website"], help_text="e.g. https://www.example.com")
    types = forms.MultipleChoiceField(label="How would you like to partner with us?", choices=PartnerType.choices,
                                      widget=forms.CheckboxSelectMultiple)
    regions = forms.MultipleChoiceField(label="Regions you work in", choices=Region.choices, widget=forms.CheckboxSelectMultiple)
    segments = forms.MultipleChoiceField(label="Customer segments you serve", choices=Segment.choices,
                                         widget=forms.CheckboxSelectMultiple, required=False)
    employees = forms.IntegerField(label="Number of employees", min_value=1, max_value=MAX_EMPLOYEES, required=False)
    capabilities = forms.CharField(label="Capabilities", max_length=LIMITS["capabilities"], required=False,
                                   widget=forms.Textarea(attrs={"rows": 4}),
                                   help_text="What your team does: sales, implementation, managed services, integrations…")
    motivation = forms.CharField(label="Why partner with us?", max_length=LIMITS["motivation"], required=False,
                                 widget=forms.Textarea(attrs={"rows": 4}))
    contact_name = forms.CharField(label="Your name", max_length=LIMITS["contact_name"])
    contact_email = forms.EmailField(label="Your work e-mail", max_length=LIMITS["contact_email"])
    # The honeypot: hidden from people (CSS and aria-hidden), filled in by form-filling bots.
    fax_number = forms.CharField(required=False, label="Leave this empty",
                                 widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def answers(self) -> ApplicationInput:
        d = self.cleaned_data
        return ApplicationInput(
            company_name=d["company_name"], website=d["website"], contact_name=d["contact_name"],
            contact_email=d["contact_email"], types=list(d["types"]), regions=list(d["regions"]),
            segments=list(d.get("segments") or []), employees=d.get("employees"),
            capabilities=d.get("capabilities", ""), motivation=d.get("motivation", ""),
        )


class LifecycleForm(forms.Form):
    lifecycle = forms.ChoiceField(choices=Lifecycle.choices)
    note = forms.CharField(max_length=500, required=False)


class ApproveForm(forms.Form):
    template = forms.ModelChoiceField(queryset=None, to_field_name="public_id", required=False,
                                      empty_label="Issue no agreement now", label="Agreement to issue")

    def __init__(self, *args, **kwargs):
        from covey.agreements.models import AgreementTemplate

        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = AgreementTemplate.objects.filter(is_active=True, versions__isnull=False).distinct()


class DeclineForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class LaunchPlanForm(forms.Form):
    template = forms.ModelChoiceField(queryset=None, to_field_name="public_id", label="Launch plan")
    start = forms.DateField(label="Starts on", widget=DateInput)

    def __init__(self, *args, **kwargs):
        from covey.plans.models import PlanKind, PlanTemplate

        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = PlanTemplate.objects.filter(kind=PlanKind.LAUNCH, is_active=True)


class RoundForm(forms.Form):
    name = forms.CharField(max_length=120, required=False, label="Round name", help_text="e.g. Annual review 2027")


def scorecard_form(criteria: list[dict], data=None, initial: dict | None = None) -> forms.Form:
    """A form with a score field and a note field per frozen criterion of a round."""
    fields: dict[str, forms.Field] = {}
    for spec in criteria:
        code = spec["code"]
        if spec["scale"] == ScaleKind.LEVELS:
            fields[f"score_{code}"] = forms.ChoiceField(
                label=spec["name"], choices=[("", "—"), ("high", "High"), ("medium", "Medium"), ("low", "Low")],
            )
        else:
            fields[f"score_{code}"] = forms.DecimalField(
                label=spec["name"], max_digits=5, decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "1", "min": spec["low"], "max": spec["high"]}),
                help_text=f"{spec['low']} to {spec['high']}",
            )
        fields[f"note_{code}"] = forms.CharField(label=f"Note on {spec['name'].lower()}", required=False, max_length=2000,
                                                 widget=forms.Textarea(attrs={"rows": 2}))
    form_class = type("ScorecardForm", (forms.Form,), fields)
    return form_class(data, initial=initial)


class CriterionForm(forms.Form):
    name = forms.CharField(max_length=120)
    code = forms.SlugField(max_length=40, required=False, help_text="Short id; made from the name when empty")
    description = forms.CharField(max_length=500, required=False)
    weight = forms.DecimalField(min_value=Decimal(0), max_digits=6, decimal_places=2)
    scale = forms.ChoiceField(choices=ScaleKind.choices)
    high_value = forms.DecimalField(label="High is worth", initial=5, max_digits=5, decimal_places=2, min_value=Decimal(0))
    medium_value = forms.DecimalField(label="Medium is worth", initial=3, max_digits=5, decimal_places=2, min_value=Decimal(0))
    low_value = forms.DecimalField(label="Low is worth", initial=1, max_digits=5, decimal_places=2, min_value=Decimal(0))
    order = forms.IntegerField(min_value=0, max_value=1000, initial=0)
    is_active = forms.BooleanField(required=False, initial=True, label="Used in new rounds")


class IdealProfileForm(forms.Form):
    min_total = forms.DecimalField(label="Minimum total (of 10)", required=False, min_value=Decimal(0), max_value=Decimal(10),
                                   max_digits=4, decimal_places=2)
    min_employees = forms.IntegerField(label="At least this many employees", required=False, min_value=0, max_value=MAX_EMPLOYEES)
    regions = forms.MultipleChoiceField(choices=Region.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                        label="In one of these regions")
    types = forms.MultipleChoiceField(choices=PartnerType.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                      label="With at least one of these types")
    segments = forms.MultipleChoiceField(choices=Segment.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                         label="Serving at least one of these segments")

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for c in self.criteria:
            self.fields[f"minimum_{c.code}"] = forms.DecimalField(
                label=f"Minimum average: {c.name}", required=False, min_value=Decimal(0), max_digits=5, decimal_places=2,
            )

    def minimums(self) -> dict:
        return {c.code: self.cleaned_data.get(f"minimum_{c.code}") for c in self.criteria}


class BusinessPlanForm(forms.Form):
    title = forms.CharField(max_length=200)
    starts_on = forms.DateField(label="Starts on", widget=DateInput)
    ends_on = forms.DateField(label="Ends on", widget=DateInput)
    notes = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class GoalForm(forms.Form):
    metric = forms.ChoiceField(choices=GoalMetric.choices, label="Goal")
    target = forms.IntegerField(min_value=1, max_value=100_000)
    note = forms.CharField(max_length=300, required=False)
