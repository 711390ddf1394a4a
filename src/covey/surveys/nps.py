"""The Net Promoter Score of a set of answers, its breakdowns and its trend across campaigns.

NPS = % promoters (answers 9–10) − % detractors (0–6), from −100 to 100; passives (7–8) count in the
total only. It is given to one decimal place, rounded half-even, and is None without answers. Counts
come from the database (one grouped query per view); breakdowns group the answers by the partner,
partner type and tier frozen on each answer (an answer of a partner with two types counts in both).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Count, Q, QuerySet

PROMOTER_MIN, DETRACTOR_MAX = 9, 6
_ONE_DAY = timedelta(days=1)


@dataclass
class Tally:
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def total(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> Decimal | None:
        if not self.total:
            return None
        exact = Decimal(100 * (self.promoters - self.detractors)) / Decimal(self.total)
        return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)

    def add(self, score: int) -> None:
        if score >= PROMOTER_MIN:
            self.promoters += 1
        elif score <= DETRACTOR_MAX:
            self.detractors += 1
        else:
            self.passives += 1


_COUNTS = {"promoters": Count("id", filter=Q(score__gte=PROMOTER_MIN)),
           "passives": Count("id", filter=Q(score__gt=DETRACTOR_MAX, score__lt=PROMOTER_MIN)),
           "detractors": Count("id", filter=Q(score__lte=DETRACTOR_MAX))}


def tally(answers: QuerySet) -> Tally:
    return Tally(**answers.order_by().aggregate(**_COUNTS))


def tally_by(answers: QuerySet, field: str) -> dict:
    """``{value of field: Tally}`` in one grouped query."""
    rows = answers.order_by().values(field).annotate(**_COUNTS)
    return {r[field]: Tally(r["promoters"], r["passives"], r["detractors"]) for r in rows}


def breakdowns(answers: QuerySet) -> dict[str, dict]:
    """Per partner (id), per partner type code and per tier code, from the answers' frozen facts."""
    out: dict[str, dict] = {"partner": defaultdict(Tally), "type": defaultdict(Tally), "tier": defaultdict(Tally)}
    for partner_id, types, tiers, score in answers.order_by().values_list("partner_id", "partner_types", "tier_codes", "score"):
        out["partner"][partner_id].add(score)
        for code in types or ["(none)"]:
            out["type"][code].add(score)
        for code in tiers or ["(none)"]:
            out["tier"][code].add(score)
    return {k: dict(v) for k, v in out.items()}


def trend(campaigns: QuerySet) -> list[tuple[object, Tally]]:
    """(campaign, tally) for each sent campaign, oldest first (by open date)."""
    from covey.surveys.models import Answer, CampaignStatus

    sent = list(campaigns.filter(status__in=(CampaignStatus.OPEN, CampaignStatus.CLOSED)).order_by("opens_on", "id"))
    by_campaign = tally_by(Answer.objects.filter(campaign__in=sent), "campaign_id")
    return [(c, by_campaign.get(c.pk, Tally())) for c in sent]


# --- the analytics metric ---------------------------------------------------------------------

DEFINITION = ("Net Promoter Score of partner users' survey answers given in the period: the share of answers "
              "scoring 9–10 (promoters) minus the share scoring 0–6 (detractors), in points from −100 to 100, one "
              "decimal. Partner filters keep the answers of the partners they keep. Empty without answers.")


def period_answers(filters) -> QuerySet:
    """Answers given in the filters' period, of the partners the filters keep."""
    from covey.analytics import metrics as M
    from covey.surveys.models import Answer

    answers = Answer.objects.filter(answered_at__gte=M._aware(filters.period.start),
                                    answered_at__lt=M._aware(filters.period.end) + _ONE_DAY)
    if filters.narrows_partners:
        answers = answers.filter(partner__in=M.partner_queryset(filters).values("pk"))
    return answers


def period_nps(filters) -> Decimal | None:
    return tally(period_answers(filters)).nps


def register_metric() -> None:
    """Add ``partner_nps`` to the analytics registry (vendor staff only; its records are the answers)."""
    from covey.analytics import metrics as M

    M.METRICS.setdefault("partner_nps", M.Metric(
        "partner_nps", "Partner NPS", DEFINITION, "points", lambda cube: period_nps(cube.filters),
        "link:survey_answers", for_partners=False))

