"""Evaluation math with worked numbers: weights, normalisation to 10, ranking, profile shortfalls.

No database: ``covey.lifecycle.scoring`` is pure.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from covey.lifecycle import scoring
from covey.lifecycle.scoring import (
    Candidate,
    Criterion,
    Profile,
    Result,
    ScoringError,
    rank,
    shortfalls,
    weighted_total,
)


def crit(code, weight, high="5", low="1"):
    return Criterion(code=code, name=code.replace("_", " ").title(), weight=D(weight), low=D(low), high=D(high))


FOUR_CS = [crit("capacity", "2"), crit("capability", "2"), crit("commitment", "1"), crit("customer_fit", "3")]


def test_one_evaluator_worked_example():
    # 10 × (2×4/5 + 2×3/5 + 1×5/5 + 3×2/5) / (2+2+1+3) = 10 × (1.6 + 1.2 + 1 + 1.2) / 8 = 10 × 5/8 = 6.25
    result = weighted_total(FOUR_CS, [{"capacity": D(4), "capability": D(3), "commitment": D(5), "customer_fit": D(2)}])
    assert result.total == D("6.25")
    assert result.means == {"capacity": D("4.00"), "capability": D("3.00"), "commitment": D("5.00"), "customer_fit": D("2.00")}


def test_two_evaluators_are_averaged_per_criterion_first():
    # capacity (4+5)/2 = 4.5, capability (3+3)/2 = 3, commitment (5+4)/2 = 4.5, customer fit (2+3)/2 = 2.5
    # 10 × (2×4.5/5 + 2×3/5 + 1×4.5/5 + 3×2.5/5) / 8 = 10 × (1.8 + 1.2 + 0.9 + 1.5) / 8 = 10 × 5.4/8 = 6.75
    cards = [
        {"capacity": D(4), "capability": D(3), "commitment": D(5), "customer_fit": D(2)},
        {"capacity": D(5), "capability": D(3), "commitment": D(4), "customer_fit": D(3)},
    ]
    result = weighted_total(FOUR_CS, cards)
    assert result.total == D("6.75") and result.evaluators == 2
    assert result.means["capacity"] == D("4.50")
    # …which is also the average of the two evaluators' own totals (6.25 and 7.25).
    alone = [weighted_total(FOUR_CS, [c]).total for c in cards]
    assert alone == [D("6.25"), D("7.25")] and sum(alone) / 2 == result.total


def test_high_medium_low_with_admin_numbers_normalises_by_the_best_value():
    # A levels scale with High=10, Medium=6, Low=2: a Medium is 6/10 of the criterion.
    criteria = [crit("market_overlap", "1", high="10", low="2"), crit("technical_fit", "1")]
    # 10 × (1×6/10 + 1×5/5) / 2 = 10 × 1.6/2 = 8
    assert weighted_total(criteria, [{"market_overlap": D(6), "technical_fit": D(5)}]).total == D("8.00")


def test_all_best_scores_make_ten_and_all_lowest_on_one_to_five_make_two():
    best = {c.code: D(5) for c in FOUR_CS}
    worst = {c.code: D(1) for c in FOUR_CS}
    assert weighted_total(FOUR_CS, [best]).total == D("10.00")
    assert weighted_total(FOUR_CS, [worst]).total == D("2.00")


def test_the_total_is_rounded_once_half_up():
    # 10 × (1×4/5 + 1×4/5 + 1×5/5) / 3 = 10 × 2.6/3 = 8.6666… → 8.67
    criteria = [crit("a", "1"), crit("b", "1"), crit("c", "1")]
    assert weighted_total(criteria, [{"a": D(4), "b": D(4), "c": D(5)}]).total == D("8.67")
    # An exact half: 10 × (1×1/5 + 1×1/8) / 2 = 10 × 0.325/2 = 1.625 → 1.63 (half up, not half even)
    halves = [crit("a", "1"), crit("b", "1", high="8")]
    assert weighted_total(halves, [{"a": D(1), "b": D(1)}]).total == D("1.63")


def test_a_weight_of_zero_leaves_the_criterion_out():
    criteria = [crit("a", "1"), crit("b", "0")]
    assert weighted_total(criteria, [{"a": D(5), "b": D(1)}]).total == D("10.00")


def test_weights_that_sum_to_zero_are_refused():
    with pytest.raises(ScoringError, match="add up to zero"):
        weighted_total([crit("a", "0"), crit("b", "0")], [{"a": D(5), "b": D(5)}])
    with pytest.raises(ScoringError, match="negative"):
        scoring.check_weights([D(1), D(-1)])


@pytest.mark.parametrize("score", [D(0), D(6), D("5.01"), D(-1)])
def test_scores_outside_the_scale_are_refused(score):
    with pytest.raises(ScoringError, match="outside the scale"):
        weighted_total(FOUR_CS, [{"capacity": score, "capability": D(3), "commitment": D(3), "customer_fit": D(3)}])


def test_a_scorecard_missing_a_criterion_is_an_error_not_a_zero():
    with pytest.raises(ScoringError, match="every criterion"):
        weighted_total(FOUR_CS, [{"capacity": D(3)}])


def test_no_scorecards_means_no_total():
    assert weighted_total(FOUR_CS, []) is None


def test_ranking_shares_places_on_ties_and_leaves_out_the_unscored():
    ranked = rank([("a", "Bravo", D("7.5")), ("b", "alpha", D("7.5")), ("c", "Charlie", D("9")),
                   ("d", "Delta", None), ("e", "Echo", D("6"))])
    assert [(r.rank, r.name) for r in ranked] == [(1, "Charlie"), (2, "alpha"), (2, "Bravo"), (4, "Echo")]


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 5)), min_size=1, max_size=8),
       st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_the_total_is_always_between_zero_and_ten_and_the_average_of_evaluator_totals(weights_and_scores, others):
    criteria = [crit(f"c{i}", str(w)) for i, (w, _) in enumerate(weights_and_scores)]
    if sum(w for w, _ in weights_and_scores) == 0:
        return
    cards = [{c.code: D(s) for c, (_, s) in zip(criteria, weights_and_scores, strict=True)}]
    cards += [{c.code: D(o) for c in criteria} for o in others]
    total = weighted_total(criteria, cards).total
    assert D(0) <= total <= D(10)
    each = [weighted_total(criteria, [card]).total for card in cards]
    assert abs(sum(each) / len(each) - total) <= D("0.01")  # equal up to the one rounding of each


# --- the ideal partner profile ---------------------------------------------------------------


def candidate(**kw):
    base = dict(employees=40, region="emea", types=frozenset({"reseller"}), segments=frozenset({"smb"}),
                result=Result(total=D("7.20"), means={"capacity": D("4.00"), "customer_fit": D("2.50")}, evaluators=2))
    base.update(kw)
    return Candidate(**base)


def test_a_candidate_that_meets_every_threshold_has_no_shortfalls():
    profile = Profile(min_total=D("7"), criteria_minimums={"capacity": D("3")}, min_employees=20,
                      regions=frozenset({"emea", "na"}), types=frozenset({"reseller", "msp"}), segments=frozenset({"smb"}))
    assert shortfalls(profile, candidate()) == []


def test_each_missed_threshold_is_named():
    profile = Profile(min_total=D("7.5"), criteria_minimums={"customer_fit": D("3")}, min_employees=50,
                      regions=frozenset({"na"}), types=frozenset({"system_integrator"}), segments=frozenset({"enterprise"}))
    found = shortfalls(profile, candidate(), names={"customer_fit": "Customer fit"},
                       labels={"emea": "EMEA", "na": "North America", "system_integrator": "System integrator", "enterprise": "Enterprise"})
    assert found == [
        "40 employees, below the minimum of 50.",
        "Region EMEA is not one of: North America.",
        "None of the partner types the profile looks for (System integrator).",
        "Serves none of the segments the profile looks for (Enterprise).",
        "Total 7.2 / 10, below the minimum of 7.5.",
        "Customer fit: average 2.5, below the minimum of 3.",
    ]


def test_unknown_facts_and_missing_scores_count_as_short():
    profile = Profile(min_total=D("6"), criteria_minimums={"capacity": D("3")}, min_employees=20)
    found = shortfalls(profile, candidate(employees=None, result=None), names={"capacity": "Capacity"})
    assert found == [
        "Employees unknown (the profile asks for at least 20).",
        "Not scored yet (the profile asks for a total of at least 6).",
        "Capacity: not scored yet (minimum 3).",
    ]


def test_an_empty_profile_asks_for_nothing():
    assert shortfalls(Profile(), candidate(employees=None, result=None)) == []
