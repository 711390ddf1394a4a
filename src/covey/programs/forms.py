"""Forms of the program builder.

The rule form is generated per rule kind from the parameter types in ``covey.programs.rules``: a
``Decimal`` is a percent box, an ``…_minor`` integer an amount in the rule's currency, a ``date`` a
date picker, a tuple of known choices a set of tick boxes, a band or threshold list a few rows, a
tier mapping one box per tier of the version. Its field names are the parameter paths the parser
reports errors under (``bands.1.from``), so every message lands next to the box it is about. The
form only reshapes input into the rule's JSON; ``parse_rule`` (through ``services.rule_save``) is
the one judge of what is valid.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import typing
from datetime import date
from decimal import Decimal

from django import forms

from covey.core.money import MoneyError, all_currencies, parse_amount
from covey.programs import rules as r
from covey.programs.models import CreditModel, PayoutFrequency

DateInput = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

CHOICES = {
    "mode": r.REFERRAL_MODES, "event": r.OUTCOMES, "scope": r.CAP_SCOPES, "roles": r.ROLES, "requires": r.EVIDENCE,
    "events": r.CLAWBACK_EVENTS, "applies_to": r.CAPPABLE,
}
LABELS = {
    "percent_first_year": "Percent of first-year value", "flat_fee": "Flat fee per new customer",
    "recurring": "Recurring percent for N months", "renewal": "Renewal", "adoption_milestone": "Adoption milestone",
    "deal": "Per deal", "partner_period": "Per partner per period", "churn": "Customer churns", "refund": "Customer refunded",
    **r.EVIDENCE_LABELS, **r.KIND_LABELS,
}
HELP = {
    "currency": "ISO code of the amounts below, e.g. USD",
    "roles": "Which partner roles on a deal are paid; none ticked: the usual ones for this kind",
    "requires": "Evidence a deal needs before it pays",
    "products": "Product codes separated by commas; empty: any product",
    "close_within_days": "Days from approval to close (default 90)",
    "within_days": "Days after the deal closed",
    "target": "Quarterly target for every tier without its own",
}
KIND_CLASSES = {
    "resale_margin": r.ResaleMargin, "referral_commission": r.ReferralCommission, "registration_bonus": r.RegistrationBonus,
    "accelerator": r.Accelerator, "annual_rebate": r.AnnualRebate, "spiff": r.Spiff, "outcome_bonus": r.OutcomeBonus,
    "clawback": r.Clawback, "cap": r.Cap,
}
ROWS = {"bands": 4, "thresholds": 4}  # empty rows offered beyond the stored ones (at least)


FIELD_LABELS = {
    "min_value": "Minimum deal value", "fee": "Fee per new customer", "months": "Months", "starts_on": "Starts on",
    "ends_on": "Ends on", "within_days": "Within (days)", "close_within_days": "Close within (days)",
    "target": "Quarterly target", "applies_to": "Counts toward the cap", "requires": "Requires evidence",
    "roles": "Paid roles", "events": "When", "scope": "Cap applies", "mode": "Pays", "event": "Outcome",
}


def _label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def _json_key(name: str) -> str:
    return name.removesuffix("_minor")


def _scalar_field(name: str, hint, *, label: str | None = None) -> forms.Field:
    """A form field for a parameter of type ``hint``; every field is optional (the parser decides)."""
    key = _json_key(name)
    label = label or _label(key)
    help_text = HELP.get(key, "")
    if key in CHOICES and hint is str:
        return forms.ChoiceField(choices=[("", "—")] + [(c, LABELS.get(c, _label(c))) for c in CHOICES[key]],
                                 required=False, label=label, help_text=help_text)
    if key in CHOICES:
        return forms.MultipleChoiceField(choices=[(c, LABELS.get(c, _label(c))) for c in CHOICES[key]], required=False,
                                         widget=forms.CheckboxSelectMultiple, label=label, help_text=help_text)
    if hint is Decimal:
        return forms.CharField(max_length=12, required=False, label=f"{label} (%)", help_text=help_text,
                               widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    if hint is date:
        return forms.CharField(max_length=10, required=False, label=label, help_text=help_text,
                               widget=forms.DateInput(attrs={"type": "date"}))
    if name.endswith("_minor"):
        return forms.CharField(max_length=24, required=False, label=label, help_text=help_text,
                               widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    if hint is int:
        return forms.CharField(max_length=6, required=False, label=label, help_text=help_text,
                               widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    if key == "currency":
        return forms.CharField(max_length=3, required=False, label="Currency", help_text=help_text)
    return forms.CharField(max_length=500, required=False, label=label, help_text=help_text)


def rule_layout(kind: str, tiers: list[tuple[str, str]]) -> list[tuple[str, object]]:
    """The parameters of ``kind`` in order: ("field", path, field) or ("rows", name, [row fields…])."""
    cls = KIND_CLASSES[kind]
    hints = typing.get_type_hints(cls)
    out: list = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        origin = typing.get_origin(hint)
        if hint is r.Common:
            out.append(("field", "roles", _scalar_field("roles", tuple)))
            out.append(("field", "requires", _scalar_field("requires", tuple)))
        elif origin is tuple and typing.get_args(hint)[0] in (r.Band, r.Threshold):
            out.append(("rows", f.name, typing.get_args(hint)[0]))
        elif origin is tuple:
            out.append(("field", f.name, _scalar_field(f.name, tuple)))
        elif origin in (collections.abc.Mapping, dict):
            out.append(("tiers", f.name, None))
        else:
            out.append(("field", _json_key(f.name), _scalar_field(f.name, hint)))
    return out


class RuleForm(forms.Form):
    """A typed form for one rule kind; ``params()`` is the JSON ``rule_save`` validates."""

    name = forms.CharField(max_length=120, label="Rule name", help_text="What partners read as the heading")

    def __init__(self, *args, kind: str, tiers: list[tuple[str, str]], params: dict | None = None, currency: str = "USD",
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.kind, self.tiers, self.groups = kind, tiers, []
        params = params or {}
        for entry, name, spec in rule_layout(kind, tiers):
            if entry == "field":
                self.fields[name] = spec
                self.groups.append({"kind": "field", "names": [name]})
                self.initial.setdefault(name, self._initial(params.get(name), name) if params else
                                        (currency if name == "currency" else None))
            elif entry == "tiers":
                names = []
                for code, label in tiers:
                    path = f"{name}.{code}"
                    self.fields[path] = forms.CharField(max_length=24, required=False, label=f"{label} target",
                                                        help_text=f"Quarterly target for {label} (empty: the general one)")
                    self.initial.setdefault(path, (params.get(name) or {}).get(code))
                    names.append(path)
                self.groups.append({"kind": "tiers", "title": _label(name), "names": names, "name": name})
            else:
                stored = params.get(name) if isinstance(params.get(name), list) else []
                rows = []
                for i in range(max(len(stored) + 1, ROWS[name])):
                    row = stored[i] if i < len(stored) and isinstance(stored[i], dict) else {}
                    cols = [("from", "From"), ("to", "Up to (empty: no top)")] if spec is r.Band else [("from", "From"), ("rate", "Rate (%)")]
                    names = []
                    for col, label in cols:
                        path = f"{name}.{i}.{col}"
                        self.fields[path] = forms.CharField(max_length=24, required=False, label=f"{_label(name)[:-1]} {i + 1}: {label}")
                        self.initial.setdefault(path, row.get(col))
                        names.append(path)
                    if spec is r.Band:
                        for code, tlabel in tiers:
                            path = f"{name}.{i}.rates.{code}"
                            self.fields[path] = forms.CharField(max_length=12, required=False, label=f"Band {i + 1}: {tlabel} (%)")
                            self.initial.setdefault(path, (row.get("rates") or {}).get(code))
                            names.append(path)
                    rows.append(names)
                self.groups.append({"kind": "rows", "title": _label(name), "rows": rows, "name": name})

    @staticmethod
    def _initial(value, name):
        if name == "products" and isinstance(value, list):
            return ", ".join(value)
        return value

    def bound_groups(self):
        """The groups with bound fields, for the template."""
        out = []
        for g in self.groups:
            if g["kind"] == "rows":
                out.append({**g, "rows": [[self[n] for n in row] for row in g["rows"]]})
            else:
                out.append({**g, "fields": [self[n] for n in g["names"]]})
        return out

    def params(self) -> dict:
        d = self.cleaned_data
        out: dict = {}
        for g in self.groups:
            if g["kind"] == "field":
                name = g["names"][0]
                value = d.get(name)
                if name == "products":
                    value = [p.strip() for p in (value or "").split(",") if p.strip()]
                    if value:
                        out[name] = value
                elif isinstance(value, list):
                    if value:
                        out[name] = value
                elif value not in (None, ""):
                    out[name] = value.strip().upper() if name == "currency" else value.strip()
            elif g["kind"] == "tiers":
                targets = {n.split(".", 1)[1]: d[n].strip() for n in g["names"] if (d.get(n) or "").strip()}
                if targets:
                    out[g["name"]] = targets
            else:
                rows = []
                for names in g["rows"]:
                    row: dict = {}
                    for n in names:
                        value = (d.get(n) or "").strip()
                        if not value:
                            continue
                        parts = n.split(".")
                        if parts[2] == "rates":
                            row.setdefault("rates", {})[parts[3]] = value
                        else:
                            row[parts[2]] = value
                    rows.append(row)
                while rows and not rows[-1]:
                    rows.pop()  # empty rows at the end are the spare ones; an empty row between is an error
                if rows:
                    out[g["name"]] = rows
        return out

    def field_map(self) -> dict[str, str]:
        """Service error keys (``params.bands.0.from``) → this form's fields."""
        return {f"params.{n}": n for n in self.fields}


class KindForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, r.KIND_LABELS[k]) for k in r.KINDS])


class ProgramForm(forms.Form):
    name = forms.CharField(max_length=120)
    currency = forms.ChoiceField(choices=[(c, c) for c in all_currencies()], initial="USD",
                                 help_text="Tier requirements and MDF allowances are in this currency")
    summary = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="One paragraph partners read at the top of the guide")


class VersionForm(forms.Form):
    effective_from = forms.TypedChoiceField(coerce=date.fromisoformat, label="Takes effect from",
                                            help_text="The first day of the fiscal quarter it starts governing")
    credit_model = forms.ChoiceField(choices=CreditModel.choices)
    influence_share = forms.CharField(max_length=12, required=False, label="Influence share (%)",
                                      help_text="Origination: percent of the deal credited to each supporting partner")
    payout_frequency = forms.ChoiceField(choices=PayoutFrequency.choices, label="Statements")
    payout_delay_days = forms.IntegerField(min_value=0, max_value=365, label="Payable after (days)",
                                           help_text="Days after the customer pays")
    notes = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}), label="What changed")

    def __init__(self, *args, quarters: list[tuple[date, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].choices = [(d.isoformat(), label) for d, label in quarters]
        for role in r.ROLES:
            self.fields[f"role_{role}"] = forms.CharField(max_length=12, required=False, label=f"{_label(role)} share (%)")

    def role_fields(self):
        return [self[f"role_{role}"] for role in r.ROLES]

    def values(self) -> dict:
        d = self.cleaned_data
        shares = {role: d[f"role_{role}"].strip() for role in r.ROLES if (d.get(f"role_{role}") or "").strip()}
        return {"effective_from": d["effective_from"], "credit_model": d["credit_model"],
                "influence_share": (d.get("influence_share") or "0").strip(), "role_shares": shares,
                "payout_frequency": d["payout_frequency"], "payout_delay_days": d["payout_delay_days"], "notes": d["notes"]}

    def field_map(self) -> dict[str, str]:
        return {f"role_shares.{role}": f"role_{role}" for role in r.ROLES} | {"role_shares": "role_sourced"}


class TierForm(forms.Form):
    code = forms.SlugField(max_length=30, help_text="Stable key across versions, e.g. gold")
    name = forms.CharField(max_length=60)
    rank = forms.IntegerField(min_value=1, max_value=99, help_text="1 is the entry tier; higher ranks are better")
    min_annual_sales = forms.CharField(max_length=24, required=False, label="Annual sales at least")
    min_certified_people = forms.IntegerField(min_value=0, max_value=100_000, required=False, label="Certified people at least")
    min_satisfaction = forms.DecimalField(min_value=0, max_value=10, decimal_places=1, required=False,
                                          label="Customer satisfaction at least (0–10)")
    min_deals = forms.IntegerField(min_value=0, max_value=100_000, required=False, label="Won deals in the last year at least")
    mdf_allowance = forms.CharField(max_length=24, required=False, label="MDF allowance per quarter")
    dedicated_manager = forms.BooleanField(required=False, label="Dedicated partner manager")
    lead_sharing = forms.BooleanField(required=False, label="Lead sharing")
    perks = forms.CharField(max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            label="Other benefits", help_text="One per line, e.g. co-branded content, roadmap previews")

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        for name in ("min_annual_sales", "mdf_allowance"):
            self.fields[name].help_text = f"In {currency}"

    def _amount(self, name: str) -> int | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            minor = parse_amount(text, self.currency).minor
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from None
        if minor < 0:
            raise forms.ValidationError("An amount cannot be negative.")
        return minor

    def clean_min_annual_sales(self):
        return self._amount("min_annual_sales")

    def clean_mdf_allowance(self):
        return self._amount("mdf_allowance") or 0

    def values(self) -> dict:
        d = self.cleaned_data
        return {"code": d["code"], "name": d["name"], "rank": d["rank"], "min_annual_sales_minor": d["min_annual_sales"],
                "min_certified_people": d["min_certified_people"], "min_satisfaction": d["min_satisfaction"],
                "min_deals": d["min_deals"], "mdf_allowance_minor": d["mdf_allowance"],
                "dedicated_manager": d["dedicated_manager"], "lead_sharing": d["lead_sharing"],
                "perks": [line.strip() for line in (d.get("perks") or "").splitlines() if line.strip()]}

    @staticmethod
    def initial_for(tier, currency: str) -> dict:
        from covey.core.money import Money

        def amount(minor):
            return None if minor is None else f"{Money(minor, currency).amount:f}"

        return {"code": tier.code, "name": tier.name, "rank": tier.rank, "min_annual_sales": amount(tier.min_annual_sales_minor),
                "min_certified_people": tier.min_certified_people, "min_satisfaction": tier.min_satisfaction,
                "min_deals": tier.min_deals, "mdf_allowance": amount(tier.mdf_allowance_minor) if tier.mdf_allowance_minor else "",
                "dedicated_manager": tier.dedicated_manager, "lead_sharing": tier.lead_sharing, "perks": "\n".join(tier.perks)}

    def field_map(self) -> dict[str, str]:
        return {"min_annual_sales_minor": "min_annual_sales", "mdf_allowance_minor": "mdf_allowance"}


class PilotForm(forms.Form):
    partners = forms.ModelMultipleChoiceField(queryset=None, to_field_name="public_id", required=False,
                                              widget=forms.CheckboxSelectMultiple, label="Pilot partners")

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = partners


class EnrolForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=None, to_field_name="public_id")
    tier_code = forms.ChoiceField(label="Tier")
    starts_on = forms.DateField(label="From", widget=DateInput)
    reason = forms.CharField(max_length=500, required=False, help_text="Why, for the record (e.g. annual tier review)")

    def __init__(self, *args, partners, tiers: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        self.fields["tier_code"].choices = tiers
