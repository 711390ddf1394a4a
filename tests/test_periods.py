"""Fiscal periods for calendars that start in any month."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from covey.core.periods import FiscalCalendar


def test_calendar_year_quarters():
    cal = FiscalCalendar(1)
    q = cal.quarter_of(date(2026, 11, 22))
    assert (q.label, q.start, q.end) == ("FY2026 Q4", date(2026, 10, 1), date(2026, 12, 31))


def test_february_fiscal_year_is_named_after_the_year_it_ends():
    cal = FiscalCalendar(2)
    assert cal.year_of(date(2026, 2, 1)).label == "FY2027"
    assert cal.year_of(date(2026, 1, 31)).label == "FY2026"
    q = cal.quarter_of(date(2026, 11, 22))
    assert (q.label, q.start, q.end) == ("FY2027 Q4", date(2026, 11, 1), date(2027, 1, 31))


def test_next_and_previous_cross_year_boundaries():
    cal = FiscalCalendar(7)
    q4 = cal.quarter(2026, 4)
    assert cal.next(q4).label == "FY2027 Q1"
    assert cal.previous(cal.next(q4)) == q4
    assert cal.parse(q4.key) == q4
    assert cal.parse("FY2026").label == "FY2026"


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError):
        FiscalCalendar(13)
    with pytest.raises(ValueError, match="not a fiscal period"):
        FiscalCalendar(1).parse("last quarter")


@given(start_month=st.integers(1, 12), day=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_every_day_falls_in_exactly_one_quarter_of_its_year(start_month, day):
    cal = FiscalCalendar(start_month)
    q = cal.quarter_of(day)
    y = cal.year_of(day)
    assert day in q and day in y
    assert y.start <= q.start and q.end <= y.end
    assert cal.quarter_of(q.end + timedelta(days=1)) == cal.next(q)
    quarters = cal.quarters(y.fiscal_year)
    assert quarters[0].start == y.start and quarters[-1].end == y.end
    assert all(a.end + timedelta(days=1) == b.start for a, b in zip(quarters, quarters[1:], strict=False))


def test_business_days_skip_weekends_and_keep_the_time_of_day():
    from datetime import datetime

    from covey.core.periods import add_business_days

    thursday = datetime(2026, 11, 19, 15, 30)
    assert add_business_days(thursday, 2) == datetime(2026, 11, 23, 15, 30)  # Friday, then Monday
    assert add_business_days(datetime(2026, 11, 21, 12, 0), 2) == datetime(2026, 11, 25, 0, 0)  # Saturday → end of Tuesday
    assert add_business_days(thursday, 0) == thursday
