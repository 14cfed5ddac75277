"""The periods a report covers: today, calendar weeks (Monday first, as Thai offices count them),
calendar months, the last 30 days, or a range of days someone picks; each is whole local days of the
installation's time zone (`api.timezone`), so "last week" is Monday 00:00 to Monday 00:00 there,
whatever the server's own zone, and a bookmarked report names the same days when it is reopened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

MAX_DAYS = 366
"""The longest range a report may cover: a year, leap day included."""


class PeriodName(StrEnum):
    TODAY = "today"
    THIS_WEEK = "this_week"
    LAST_WEEK = "last_week"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    LAST_30_DAYS = "last_30_days"


PeriodProblem = Literal["order", "too_long"]


class PeriodError(ValueError):
    """A range of days that cannot be a report's period; `problem` says which rule it breaks (the
    dashboard shows it in the user's language, the API as the message)."""

    def __init__(self, problem: PeriodProblem, message: str) -> None:
        super().__init__(message)
        self.problem: PeriodProblem = problem


@dataclass(frozen=True, slots=True)
class Period:
    """The local days `first` to `last`, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError("order", f"the period ends ({self.last}) before it starts ({self.first})")
        if self.days > MAX_DAYS:
            raise PeriodError("too_long", f"a report covers at most {MAX_DAYS} days, not {self.days}")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def span(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The instants (UTC) it covers: from local midnight of `first` to local midnight after `last`."""
        return _midnight(self.first, tz), _midnight(self.last + timedelta(days=1), tz)

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]


def named_period(name: PeriodName, today: date) -> Period:
    """The period `name` as seen on the local day `today`."""
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    match name:
        case PeriodName.TODAY:
            return Period(today, today)
        case PeriodName.THIS_WEEK:
            return Period(monday, today)
        case PeriodName.LAST_WEEK:
            return Period(monday - timedelta(days=7), monday - timedelta(days=1))
        case PeriodName.THIS_MONTH:
            return Period(first_of_month, today)
        case PeriodName.LAST_MONTH:
            last = first_of_month - timedelta(days=1)
            return Period(last.replace(day=1), last)
        case PeriodName.LAST_30_DAYS:
            return Period(today - timedelta(days=29), today)


def local_today(tz: ZoneInfo) -> date:
    return datetime.now(tz).date()


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
