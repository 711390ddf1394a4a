"""The facts a tier review measures, for many partners at once (a few grouped queries, not one per partner).

Over the year ending ``as_of`` (inclusive): annual sales are the won deals a partner is linked to in any
role, in the program's currency — other currencies are converted at the quarter's FX rates and any
currency without a rate is left out and named in the evidence, never guessed; deals are the count of
those won deals; certified people come from enablement; satisfaction is the average of the scores
recorded in that year.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum

from covey.core.models import VendorSettings
from covey.core.money import currency_exponent
from covey.crm.models import OpportunityPartner, Stage
from covey.enablement.selectors import certified_people_by_partner
from covey.programs.models import Enrolment, Program, ProgramVersion
from covey.tierreviews.models import SatisfactionScore
from covey.tierreviews.standing import Facts, TierSpec

YEAR = timedelta(days=365)


@dataclass
class Measured:
    facts: dict[int, Facts]
    unconverted: dict[int, list[str]] = field(default_factory=dict)  # partner id → currencies without a rate


def tier_specs(version: ProgramVersion) -> list[TierSpec]:
    return [TierSpec(code=t.code, name=t.name, rank=t.rank, min_sales_minor=t.min_annual_sales_minor,
                     min_certified=t.min_certified_people, min_satisfaction=t.min_satisfaction, min_deals=t.min_deals)
            for t in version.tiers.order_by("rank")]


def _fx(as_of: date) -> dict[str, Decimal]:
    from covey.payouts.facts import fx_table  # the payout run's table: one source of rates

    return fx_table(VendorSettings.current().calendar.quarter_of(as_of).key)


def _convert(amount_minor: int, source: str, target: str, rates: dict[str, Decimal]) -> int | None:
    if source == target:
        return amount_minor
    if source not in rates or target not in rates:
        return None
    value = (Decimal(amount_minor) * rates[source] / rates[target]
             * Decimal(10) ** (currency_exponent(target) - currency_exponent(source)))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def average(scores: list[Decimal]) -> Decimal:
    return (sum(scores) / len(scores)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def measure(partner_ids: list[int], *, program: Program, as_of: date) -> Measured:
    since = as_of - YEAR + timedelta(days=1)
    won = (OpportunityPartner.objects
           .filter(partner_id__in=partner_ids, opportunity__stage=Stage.CLOSED_WON,
                   opportunity__close_date__gte=since, opportunity__close_date__lte=as_of)
           .order_by().values("partner_id", "opportunity__currency")
           .annotate(total=Sum("opportunity__amount_minor"), deals=Count("opportunity_id", distinct=True)))
    rates = _fx(as_of)
    sales: dict[int, int] = defaultdict(int)
    deals: dict[int, int] = defaultdict(int)
    unconverted: dict[int, list[str]] = defaultdict(list)
    for row in won:
        pid, currency = row["partner_id"], row["opportunity__currency"]
        deals[pid] += row["deals"]
        converted = _convert(int(row["total"] or 0), currency, program.currency, rates)
        if converted is None:
            unconverted[pid].append(currency)
        else:
            sales[pid] += converted
    certified = certified_people_by_partner(partner_ids, on=as_of)
    # A few scores per partner a year: averaged here in Decimal (SQLite would average in floating point).
    scores: dict[int, list[Decimal]] = defaultdict(list)
    for pid, score in (SatisfactionScore.objects.filter(partner_id__in=partner_ids, measured_on__gte=since,
                                                        measured_on__lte=as_of).values_list("partner_id", "score")):
        scores[pid].append(Decimal(score))
    facts = {
        pid: Facts(sales_minor=sales.get(pid, 0), certified=certified.get(pid, 0),
                   satisfaction=average(scores[pid]) if scores.get(pid) else None, deals=deals.get(pid, 0))
        for pid in partner_ids
    }
    return Measured(facts=facts, unconverted={pid: sorted(c) for pid, c in unconverted.items()})


def current_enrolments(program: Program, on: date) -> dict[int, Enrolment]:
    return {e.partner_id: e for e in Enrolment.objects.filter(program=program).on(on).select_related("partner")}
