"""Choosing the quarter's award winners by the configured rules, and giving the awards.

- **Top co-seller**: the most revenue won in the quarter on deals the partner is on (any role; a deal
  with two partners counts for both, as in the metrics), at least the rule's threshold.
- **Fastest ramp**: of the partners whose first won deal ever closed in the quarter, the fewest days
  from their first countersigned agreement to that win, at most the threshold.
- **Best customer outcomes**: the highest average customer-satisfaction score recorded for the
  partner in the quarter (``tierreviews.SatisfactionScore``), at least the threshold.

Ties go to the partner with the earlier name, so a rerun picks the same winner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Min
from django.urls import reverse

from covey.analytics import metrics as M
from covey.core import audit
from covey.core.models import StaffRole, VendorSettings
from covey.core.money import Money, currency_exponent
from covey.core.notify import notify
from covey.core.periods import Period
from covey.partners.models import Partner
from covey.recognition.models import Award, AwardKind, AwardRule

LEADERBOARD = 5
NO_RUN = "Only admins and partner managers give awards."
NO_RULES = "Only admins change the award rules."
MAX_THRESHOLD = Decimal(10**12)  # the column holds 12 digits before the point


@dataclass
class Candidate:
    partner: Partner
    rank_key: tuple
    value: str
    explanation: str


def can_run(user) -> bool:
    return user.is_authenticated and user.staff_role in (StaffRole.ADMIN, StaffRole.PARTNER_MANAGER)


def last_complete_quarter(today: date) -> Period:
    calendar = VendorSettings.current().calendar
    return calendar.previous(calendar.quarter_of(today))


def _named(ids) -> dict[int, Partner]:
    return {p.pk: p for p in Partner.objects.filter(pk__in=list(ids))}


def top_cosellers(quarter: Period, threshold: Decimal) -> list[Candidate]:
    cube = M.build_cube(M.Filters(period=quarter))
    base = cube.base
    floor = int((threshold * (10 ** currency_exponent(base))).to_integral_value())
    partners = _named(cube.partner_revenue)
    out = [Candidate(partners[pid], (-v, partners[pid].name), str(Money(v, base)),
                     f"{Money(v, base)} won in {quarter.label} on deals it co-sold")
           for pid, v in cube.partner_revenue.items() if v > 0 and v >= floor and pid in partners]
    return sorted(out, key=lambda c: c.rank_key)


def fastest_ramps(quarter: Period, threshold: Decimal) -> list[Candidate]:
    from covey.agreements.models import Agreement
    from covey.crm.models import OpportunityPartner

    first_win = dict(OpportunityPartner.objects.filter(opportunity__stage=M.WON).values("partner_id")
                     .annotate(first=Min("opportunity__close_date")).values_list("partner_id", "first"))
    in_quarter = {pid: d for pid, d in first_win.items() if quarter.start <= d <= quarter.end}
    signed = dict(Agreement.objects.filter(partner_id__in=list(in_quarter), countersigned_at__isnull=False)
                  .values("partner_id").annotate(first=Min("countersigned_at")).values_list("partner_id", "first"))
    from django.utils import timezone

    partners = _named(signed)
    out = []
    for pid, at in signed.items():
        days = (in_quarter[pid] - timezone.localdate(at)).days
        if 0 <= days <= threshold and pid in partners:
            out.append(Candidate(partners[pid], (days, partners[pid].name), f"{days} days",
                                 f"First deal won {days} days after its agreement was countersigned"))
    return sorted(out, key=lambda c: c.rank_key)


def best_outcomes(quarter: Period, threshold: Decimal) -> list[Candidate]:
    from covey.tierreviews.models import SatisfactionScore

    rows = (SatisfactionScore.objects.filter(measured_on__range=(quarter.start, quarter.end)).values("partner_id")
            .annotate(avg=Avg("score")).values_list("partner_id", "avg"))
    partners = _named(pid for pid, _ in rows)
    out = []
    for pid, avg in rows:
        score = Decimal(avg).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
        if score >= threshold and pid in partners:
            out.append(Candidate(partners[pid], (-score, partners[pid].name), f"{score}/10",
                                 f"Average customer satisfaction {score}/10 recorded in {quarter.label}"))
    return sorted(out, key=lambda c: c.rank_key)


CHOOSERS = {AwardKind.TOP_COSELLER: top_cosellers, AwardKind.FASTEST_RAMP: fastest_ramps,
            AwardKind.BEST_OUTCOMES: best_outcomes}


def leaderboards(quarter: Period) -> list[tuple[AwardRule, list[Candidate]]]:
    return [(rule, CHOOSERS[rule.kind](quarter, rule.threshold)[:LEADERBOARD]) for rule in AwardRule.all_rules()
            if rule.enabled]


def awards_run(*, quarter: Period, actor=None, source: str = "job") -> list[Award]:
    """Give the quarter's missing awards (enabled rules with a winner); returns the new ones."""
    made = []
    for rule in AwardRule.all_rules():
        if not rule.enabled or Award.objects.filter(period_key=quarter.key, kind=rule.kind).exists():
            continue
        ranked = CHOOSERS[rule.kind](quarter, rule.threshold)
        if not ranked:
            continue
        winner = ranked[0]
        try:
            with transaction.atomic():
                award = Award.objects.create(period_key=quarter.key, kind=rule.kind, partner=winner.partner,
                                             value=winner.value[:60], explanation=winner.explanation[:300])
                audit.record(actor=actor, action="create", obj=award, source=source)
                _tell(award)
        except IntegrityError:  # another worker gave it first
            continue
        made.append(award)
    return made


def _tell(award: Award) -> None:
    from covey.partners.models import Membership

    users = [m.user for m in Membership.objects.filter(partner=award.partner).select_related("user")]
    if award.partner.owner_id:
        users.append(award.partner.owner)
    notify(users, kind="award.won", title=f"{award.partner.name}: {award.get_kind_display()} award, {award.period_key}",
           body=f"Congratulations! {award.explanation}.", url=reverse("home"))


@transaction.atomic
def rule_update(*, actor, rule: AwardRule, enabled: bool, threshold: Decimal, source: str = "web") -> AwardRule:
    from django.core.exceptions import ValidationError

    if not threshold.is_finite():
        raise ValidationError({"threshold": "The threshold is a number, e.g. 25000 or 7.5."})
    if threshold < 0:
        raise ValidationError({"threshold": "The threshold cannot be negative."})
    if threshold >= MAX_THRESHOLD or threshold != threshold.quantize(Decimal("0.01")):
        raise ValidationError({"threshold": f"The threshold is a number below {MAX_THRESHOLD:,} with at most two decimals."})
    threshold = threshold.quantize(Decimal("0.01"))  # as the database gives it back, whichever database
    before = {"enabled": rule.enabled, "threshold": str(rule.threshold)}
    rule.enabled, rule.threshold = enabled, threshold
    rule.save(update_fields=["enabled", "threshold"])
    audit.record(actor=actor, action="update", obj=rule, source=source,
                 changes={k: [v, {"enabled": enabled, "threshold": str(threshold)}[k]] for k, v in before.items()})
    return rule

