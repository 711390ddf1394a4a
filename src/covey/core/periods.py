"""Fiscal periods: quarters and years of a fiscal calendar that may start in any month.

Every feature that reports or pays "per quarter" asks this module which quarter a date falls in.
A fiscal year is named after the calendar year in which it *ends* (FY2027 starting 1 Feb 2026 runs to
31 Jan 2027), the convention most US companies with a non-January year use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # "quarter" or "year"
    fiscal_year: int
    quarter: int | None
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        return f"FY{self.fiscal_year} Q{self.quarter}" if self.quarter else f"FY{self.fiscal_year}"

    @property
    def key(self) -> str:
        """Stable, URL-safe key: ``2027Q1`` or ``2027``."""
        return f"{self.fiscal_year}Q{self.quarter}" if self.quarter else str(self.fiscal_year)

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return self.label


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True, slots=True)
class FiscalCalendar:
    start_month: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise ValueError("fiscal year start month must be between 1 and 12")

    def fiscal_year_of(self, day: date) -> int:
        if self.start_month == 1:
            return day.year
        return day.year + 1 if day.month >= self.start_month else day.year

    def year(self, fiscal_year: int) -> Period:
        first_calendar_year = fiscal_year if self.start_month == 1 else fiscal_year - 1
        start = date(first_calendar_year, self.start_month, 1)
        end_y, end_m = _add_months(first_calendar_year, self.start_month, 12)
        return Period("year", fiscal_year, None, start, date(end_y, end_m, 1) - timedelta(days=1))

    def quarter(self, fiscal_year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise ValueError("quarter must be between 1 and 4")
        year_start = self.year(fiscal_year).start
        sy, sm = _add_months(year_start.year, year_start.month, 3 * (quarter - 1))
        ey, em = _add_months(sy, sm, 3)
        return Period("quarter", fiscal_year, quarter, date(sy, sm, 1), date(ey, em, 1) - timedelta(days=1))

    def quarter_of(self, day: date) -> Period:
        fy = self.fiscal_year_of(day)
        months_in = (day.year * 12 + day.month - 1) - (self.year(fy).start.year * 12 + self.start_month - 1)
        return self.quarter(fy, months_in // 3 + 1)

    def year_of(self, day: date) -> Period:
        return self.year(self.fiscal_year_of(day))

    def quarters(self, fiscal_year: int) -> list[Period]:
        return [self.quarter(fiscal_year, q) for q in range(1, 5)]

    def previous(self, period: Period) -> Period:
        return self.quarter_of(period.start - timedelta(days=1)) if period.quarter else self.year(period.fiscal_year - 1)

    def next(self, period: Period) -> Period:
        return self.quarter_of(period.end + timedelta(days=1)) if period.quarter else self.year(period.fiscal_year + 1)

    def parse(self, key: str) -> Period:
        """Inverse of ``Period.key``: ``2027Q1`` → that quarter, ``2027`` → that year."""
        text = key.strip().upper().removeprefix("FY").replace(" ", "")
        try:
            if "Q" in text:
                fy, q = text.split("Q")
                return self.quarter(int(fy), int(q))
            return self.year(int(text))
        except ValueError:
            raise ValueError(f"{key!r} is not a fiscal period (expected e.g. 2027Q1 or 2027)") from None


def add_business_days(start: datetime, days: int) -> datetime:
    """``start`` moved forward by ``days`` working days (Monday to Friday), keeping the time of day.

    A start on a weekend counts from the start of the next Monday, so "2 business days" from any
    moment of a Saturday ends when Tuesday ends (Wednesday 00:00). Public holidays are not modelled.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    moment = start
    if moment.weekday() >= 5:
        moment = (moment + timedelta(days=7 - moment.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    remaining = days
    while remaining:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment
