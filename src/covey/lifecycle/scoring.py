"""Evaluation math: weighted totals out of 10, ranking, and where a candidate falls short of the
ideal partner profile. Plain Python with no ORM, so it is tested with worked numbers in milliseconds.

The formula
-----------
Each criterion *i* has a weight ``w_i`` (a non-negative Decimal) and a scale whose best value is
``max_i`` (5 on the 1–5 scale; the number High maps to on a High/Medium/Low scale). Each evaluator
gives one score ``s_ie`` per criterion. For a round scored by evaluators ``e = 1..n``:

    mean_i  = (s_i1 + … + s_in) / n                         (the criterion's average)
    total   = 10 × Σ_i (w_i × mean_i / max_i) / Σ_i w_i     (0 to 10)

so every criterion counts as the share of its best possible score, weighted; all-best is 10 and
all-zero is 0. Averaging per criterion first equals averaging the evaluators' own totals (the sum is
linear), so one evaluator's harshness moves the total exactly as much as anyone else's.
Weights that sum to zero make the share undefined and are refused (``WEIGHTS_SUM_TO_ZERO``).

Rounding happens once, at the end: the total is quantised to two decimals, half up. Means are kept
exact (Decimal division at 28 digits) until then.

Ranking is "competition" ranking (1, 2, 2, 4): equal totals share a place, ties listed by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

TEN = Decimal(10)
TOTAL_PLACES = Decimal("0.01")
MEAN_PLACES = Decimal("0.01")

WEIGHTS_SUM_TO_ZERO = "The criteria's weights add up to zero; give at least one criterion a weight above zero."
NEGATIVE_WEIGHT = "A weight cannot be negative."
SCORE_OUTSIDE_SCALE = "{criterion}: {score} is outside the scale ({low} to {high})."
NO_SCALE = "{criterion}: the best value of the scale must be above zero."


class ScoringError(ValueError):
    """Input the formula cannot use; the message is for the person who entered it."""


@dataclass(frozen=True)
class Criterion:
    code: str
    name: str
    weight: Decimal
    low: Decimal  # the scale's lowest allowed value
    high: Decimal  # the scale's best value (max_i)


@dataclass(frozen=True)
class Result:
    total: Decimal  # 0.00 – 10.00
    means: dict[str, Decimal]  # per criterion code, the evaluators' average (2 decimals, for display)
    evaluators: int


def check_score(criterion: Criterion, score: Decimal) -> None:
    if not criterion.low <= score <= criterion.high:
        raise ScoringError(SCORE_OUTSIDE_SCALE.format(
            criterion=criterion.name, score=_plain(score), low=_plain(criterion.low), high=_plain(criterion.high),
        ))


def check_weights(weights: Iterable[Decimal]) -> None:
    weights = list(weights)
    if any(w < 0 for w in weights):
        raise ScoringError(NEGATIVE_WEIGHT)
    if sum(weights, Decimal(0)) == 0:
        raise ScoringError(WEIGHTS_SUM_TO_ZERO)


def weighted_total(criteria: Sequence[Criterion], scorecards: Sequence[Mapping[str, Decimal]]) -> Result | None:
    """The round's total from each evaluator's scores (``{criterion code: score}``); None before anyone scored.

    Every scorecard must score every criterion (the service makes sure of it); a missing one is an error
    here rather than a silent zero.
    """
    check_weights(c.weight for c in criteria)
    for c in criteria:
        if c.high <= 0:
            raise ScoringError(NO_SCALE.format(criterion=c.name))
    if not scorecards:
        return None
    n = Decimal(len(scorecards))
    weight_sum = sum((c.weight for c in criteria), Decimal(0))
    acc = Decimal(0)
    means: dict[str, Decimal] = {}
    for c in criteria:
        scores = []
        for card in scorecards:
            if c.code not in card:
                raise ScoringError(f"{c.name}: every evaluator must score every criterion.")
            check_score(c, card[c.code])
            scores.append(card[c.code])
        mean = sum(scores, Decimal(0)) / n
        means[c.code] = mean.quantize(MEAN_PLACES, rounding=ROUND_HALF_UP)
        acc += c.weight * mean / c.high
    total = (TEN * acc / weight_sum).quantize(TOTAL_PLACES, rounding=ROUND_HALF_UP)
    return Result(total=total, means=means, evaluators=len(scorecards))


@dataclass(frozen=True)
class Ranked:
    rank: int
    key: str
    name: str
    total: Decimal


def rank(entries: Iterable[tuple[str, str, Decimal | None]]) -> list[Ranked]:
    """``(key, name, total)`` → ranked, best first; unscored entries (total None) are left out."""
    scored = sorted(((k, n, t) for k, n, t in entries if t is not None), key=lambda e: (-e[2], e[1].casefold(), e[0]))
    out: list[Ranked] = []
    for position, (key, name, total) in enumerate(scored, start=1):
        place = out[-1].rank if out and out[-1].total == total else position
        out.append(Ranked(rank=place, key=key, name=name, total=total))
    return out


# --- the ideal partner profile ---------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Thresholds a good candidate meets. Empty means "no requirement"."""

    min_total: Decimal | None = None
    criteria_minimums: dict[str, Decimal] = field(default_factory=dict)  # code -> minimum average
    min_employees: int | None = None
    regions: frozenset[str] = frozenset()  # the candidate's region must be one of these
    types: frozenset[str] = frozenset()  # the candidate must have at least one of these types
    segments: frozenset[str] = frozenset()  # … and serve at least one of these segments


@dataclass(frozen=True)
class Candidate:
    employees: int | None
    region: str
    types: frozenset[str]
    segments: frozenset[str]
    result: Result | None


def shortfalls(profile: Profile, candidate: Candidate, *, names: Mapping[str, str] | None = None,
               labels: Mapping[str, str] | None = None) -> list[str]:
    """Sentences naming each threshold the candidate misses (empty: it fits the profile).

    ``names`` maps criterion codes to names, ``labels`` region/type/segment codes to labels.
    An unscored candidate falls short of every score threshold ("not scored yet"), and an unknown
    head count of an employee minimum: a gap in what we know is a gap until someone fills it.
    """
    names, labels = names or {}, labels or {}

    def label_list(codes: Iterable[str]) -> str:
        return ", ".join(sorted(labels.get(c, c) for c in codes))

    out: list[str] = []
    if profile.min_employees is not None:
        if candidate.employees is None:
            out.append(f"Employees unknown (the profile asks for at least {profile.min_employees}).")
        elif candidate.employees < profile.min_employees:
            out.append(f"{candidate.employees} employees, below the minimum of {profile.min_employees}.")
    if profile.regions and candidate.region not in profile.regions:
        out.append(f"Region {labels.get(candidate.region, candidate.region)} is not one of: {label_list(profile.regions)}.")
    if profile.types and not (candidate.types & profile.types):
        out.append(f"None of the partner types the profile looks for ({label_list(profile.types)}).")
    if profile.segments and not (candidate.segments & profile.segments):
        out.append(f"Serves none of the segments the profile looks for ({label_list(profile.segments)}).")
    result = candidate.result
    if profile.min_total is not None:
        if result is None:
            out.append(f"Not scored yet (the profile asks for a total of at least {_plain(profile.min_total)}).")
        elif result.total < profile.min_total:
            out.append(f"Total {_plain(result.total)} / 10, below the minimum of {_plain(profile.min_total)}.")
    for code, minimum in sorted(profile.criteria_minimums.items()):
        name = names.get(code, code)
        if result is None or code not in result.means:
            if result is not None:
                continue  # the criterion was not part of this round
            out.append(f"{name}: not scored yet (minimum {_plain(minimum)}).")
        elif result.means[code] < minimum:
            out.append(f"{name}: average {_plain(result.means[code])}, below the minimum of {_plain(minimum)}.")
    return out


def _plain(value: Decimal) -> str:
    """2.50 → "2.5", 5.00 → "5": numbers as a person writes them."""
    return format(value.normalize(), "f")
