"""Scoped reads of programs: which version a person sees, the guide of a tier, enrolments, who may edit.

Visibility follows the models' ``visible_to``: vendor staff see every program and version, a partner
user only the published versions of programs its partner is enrolled in. Tiers and rules are
reached through the versions the caller can see, so an outsider's id reads like a missing one.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from covey.core.access import PARTNER_CREATORS
from covey.core.models import StaffRole
from covey.programs import guide
from covey.programs.models import Enrolment, Program, ProgramVersion, Rule, Tier, VersionStatus
from covey.programs.rules import RuleInvalid, parse_rule
from covey.programs.services import governing_general

NOT_ENROLLED = "Your partner is not enrolled in this program."


def can_manage_programs(user) -> bool:
    """Admins and partner managers design programs; other vendor staff read them."""
    return user.is_authenticated and user.staff_role in PARTNER_CREATORS


def can_enrol(user, partner=None) -> bool:
    """Admins enrol any partner; a partner manager the partners they own."""
    if not user.is_authenticated:
        return False
    if user.staff_role == StaffRole.ADMIN:
        return True
    return user.staff_role == StaffRole.PARTNER_MANAGER and (partner is None or partner.owner_id == user.id)


def enrollable_partners(user):
    from covey.partners.models import Partner

    qs = Partner.objects.visible_to(user).order_by("name")
    return qs if user.staff_role == StaffRole.ADMIN else qs.filter(owner=user)


def version_get(user, public_id: str) -> ProgramVersion:
    version = ProgramVersion.objects.visible_to(user).select_related("program").filter(public_id=public_id).first()
    if version is None:
        raise Http404("No program version with that id")
    return version


def tier_get(user, public_id: str) -> Tier:
    tier = (Tier.objects.filter(version__in=ProgramVersion.objects.visible_to(user), public_id=public_id)
            .select_related("version__program").first())
    if tier is None:
        raise Http404("No tier with that id")
    return tier


def rule_get(user, public_id: str) -> Rule:
    rule = (Rule.objects.filter(version__in=ProgramVersion.objects.visible_to(user), public_id=public_id)
            .select_related("version__program").first())
    if rule is None:
        raise Http404("No rule with that id")
    return rule


def own_enrolment(user, program: Program, day: date | None = None) -> Enrolment | None:
    """A partner user's current enrolment in ``program`` (None for vendor staff)."""
    if user.is_vendor or user.membership is None:
        return None
    day = day or timezone.localdate()
    return (Enrolment.objects.filter(partner_id=user.membership.partner_id, program=program).on(day).first()
            or Enrolment.objects.filter(partner_id=user.membership.partner_id, program=program).order_by("-starts_on").first())


def version_for_partner(program: Program, partner_id: int, day: date) -> ProgramVersion | None:
    """The published version governing the partner on ``day``: a pilot it takes part in, else the
    general version; before the first one starts, the earliest upcoming one."""
    published = program.versions.filter(status=VersionStatus.PUBLISHED)
    pilot = (published.filter(pilot=True, pilot_partners__id=partner_id, effective_from__lte=day)
             .order_by("-effective_from", "-number").first())
    general = governing_general(program, day)
    if pilot is not None and (general is None or pilot.effective_from >= general.effective_from):
        return pilot
    if general is not None:
        return general
    return published.filter(Q(pilot=False) | Q(pilot_partners__id=partner_id)).order_by("effective_from", "number").first()


def default_version(program: Program, day: date) -> ProgramVersion | None:
    """What a vendor page opens on: the general version in force, else the newest one."""
    return governing_general(program, day) or program.versions.order_by("-number").first()


def guide_version(user, program: Program, requested: str | None = None, day: date | None = None) -> ProgramVersion | None:
    day = day or timezone.localdate()
    if user.is_vendor:
        chosen = program.versions.filter(public_id=requested).first() if requested else None
        return chosen or default_version(program, day)
    return version_for_partner(program, user.membership.partner_id, day)


def rule_inputs(version: ProgramVersion) -> list[guide.RuleInput]:
    codes = {t.code for t in version.tiers.all()}
    out = []
    for rule in version.rules.all():
        try:
            out.append(guide.RuleInput(rule.name, rule.kind, parse_rule(rule.kind, rule.params, tiers=codes)))
        except RuleInvalid as exc:
            out.append(guide.RuleInput(rule.name, rule.kind, None, exc.errors))
    return out


def version_guide(version: ProgramVersion, *, tiers=None, partners_only: bool = False) -> list[dict]:
    """Per tier (all of the version's, or ``tiers``): its facts and its guide lines."""
    rules = rule_inputs(version)
    if partners_only:  # an incomplete rule never reaches a partner
        rules = [x for x in rules if x.params is not None]
    currency = version.program.currency
    return [{"tier": t, "facts": guide.tier_facts(t, currency), "lines": guide.tier_guide(rules, t.code)}
            for t in (tiers if tiers is not None else version.tiers.all())]


def guide_context(user, program: Program, *, version_id: str | None = None, tier_code: str | None = None) -> dict:
    """Everything the guide page, its PDF and the API answer show, for ``user``.

    A partner user gets its own tier of the version governing it; vendor staff any version and tier."""
    enrolment = own_enrolment(user, program)
    version = guide_version(user, program, version_id)
    if version is None:  # enrolled, but nothing published yet: the page says so
        return {"program": program, "version": None, "enrolment": enrolment, "all_tiers": [], "tier_code": "",
                "sections": [], "credit": "", "payout": ""}
    tiers = list(version.tiers.all())
    if not user.is_vendor:
        tier_code = enrolment.tier_code if enrolment else None
        tiers = [t for t in tiers if t.code == tier_code]
    elif tier_code:
        tiers = [t for t in tiers if t.code == tier_code] or tiers
    return {
        "program": program, "version": version, "enrolment": enrolment, "all_tiers": list(version.tiers.all()),
        "tier_code": tier_code or "", "sections": version_guide(version, tiers=tiers, partners_only=not user.is_vendor),
        "credit": guide.credit_sentence(version.credit_model, version.influence_share, version.role_shares),
        "payout": guide.payout_sentence(version.payout_frequency, version.payout_delay_days),
    }


def enrolment_history(user, program: Program):
    return Enrolment.objects.visible_to(user).filter(program=program).select_related("partner", "created_by").order_by(
        "partner__name", "-starts_on")


def partner_enrolments(user, partner):
    """The partner page's programs: every enrolment of ``partner`` in a program ``user`` can see."""
    return (Enrolment.objects.visible_to(user).filter(partner=partner, program__in=Program.objects.visible_to(user))
            .select_related("program").order_by("program__name", "-starts_on"))


def rule_summaries(version: ProgramVersion) -> list[dict]:
    """The version's rules for the builder page: each with its plain-language lines (one per tier
    when the tiers read differently, else one) or the problems that keep it from validating."""
    tiers = list(version.tiers.all())
    out = []
    for rule, parsed in zip(version.rules.all(), rule_inputs(version), strict=True):
        lines: list[tuple[str, str]] = []
        if parsed.params is not None:
            per_tier = [(t.name, line.text) for t in tiers if (line := guide.describe(parsed, t.code)) is not None]
            texts = {text for _, text in per_tier}
            if len(texts) == 1 and len(per_tier) == len(tiers):
                lines = [("", per_tier[0][1])]
            elif per_tier:
                lines = per_tier
            elif not tiers:
                lines = [("", "Add tiers to see how this rule reads.")]
        out.append({"rule": rule, "errors": parsed.errors, "lines": lines})
    return out


def pilot_comparison(version: ProgramVersion, *, today: date) -> list[dict] | None:
    """How the pilot's partners did against the program's other enrolled partners since the pilot took
    effect: partners, won deals, won revenue and incentives posted (per currency), with averages per
    partner, so a manager can judge the pilot before rolling it out. None for a version that is not a
    published pilot."""
    from collections import defaultdict
    from decimal import ROUND_HALF_UP, Decimal

    from django.db.models import Count, Sum

    from covey.core.models import VendorSettings
    from covey.core.money import Money
    from covey.crm.models import OpportunityPartner, Stage
    from covey.payouts.models import LedgerEntry

    if not version.pilot or version.status != VersionStatus.PUBLISHED or version.effective_from > today:
        return None
    pilot_ids = set(version.pilot_partners.values_list("pk", flat=True))
    enrolled = set(Enrolment.objects.filter(program=version.program).on(today).values_list("partner_id", flat=True))
    groups = {"Pilot partners": pilot_ids, "Everyone else enrolled": enrolled - pilot_ids}
    first_key = VendorSettings.current().calendar.quarter_of(version.effective_from).key
    rows = []
    for label, ids in groups.items():
        won = (OpportunityPartner.objects.filter(partner_id__in=ids, opportunity__stage=Stage.CLOSED_WON,
                                                 opportunity__close_date__gte=version.effective_from,
                                                 opportunity__close_date__lte=today)
               .order_by().values("opportunity__currency")
               .annotate(total=Sum("opportunity__amount_minor"), deals=Count("opportunity_id", distinct=True)))
        paid = (LedgerEntry.objects.filter(program=version.program, partner_id__in=ids, period_key__gte=first_key)
                .order_by().values("currency").annotate(total=Sum("amount_minor")))
        revenue: dict[str, int] = defaultdict(int)
        deals = 0
        for row in won:
            revenue[row["opportunity__currency"]] += int(row["total"] or 0)
            deals += row["deals"]
        incentives = {row["currency"]: int(row["total"] or 0) for row in paid}
        n = len(ids)

        def per_partner(amounts: dict[str, int], n=n) -> list[Money]:
            return [Money.from_decimal(Money(v, c).amount / n, c, rounding=ROUND_HALF_UP) for c, v in sorted(amounts.items())] if n else []

        rows.append({
            "label": label, "partners": n, "deals": deals,
            "deals_per_partner": (Decimal(deals) / n).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if n else None,
            "revenue": [Money(v, c) for c, v in sorted(revenue.items())], "revenue_per_partner": per_partner(revenue),
            "incentives": [Money(v, c) for c, v in sorted(incentives.items())], "incentives_per_partner": per_partner(incentives),
        })
    return rows
