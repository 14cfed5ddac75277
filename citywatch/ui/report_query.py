"""What a report shows, kept in the Reports page's address so that it can be bookmarked and reopened:
`/reports?period=last_week`, `/reports?from=2026-11-30&to=2026-12-06`, with `type=` and `camera=`
filters (repeated). Unknown or malformed values are left out rather than refused: an old bookmark
still opens a report."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import partial
from typing import TypeVar
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from citywatch.domain.incident_types import IncidentType
from citywatch.services.periods import Period, PeriodName, named_period

DEFAULT_PERIOD = PeriodName.LAST_30_DAYS
CUSTOM = "custom"
"""The period select's value for a range of days picked with the two date inputs."""
E = TypeVar("E", bound=StrEnum)


class MissingDates(ValueError):
    """A custom range without both of its dates."""


@dataclass(frozen=True)
class ReportQuery:
    period: PeriodName | None = DEFAULT_PERIOD
    """A named period; None: the days `first` to `last`."""
    first: date | None = None
    last: date | None = None
    types: tuple[IncidentType, ...] = ()
    camera_ids: tuple[str, ...] = ()

    @classmethod
    def parse(cls, params: QueryParams, camera_ids: Collection[str]) -> ReportQuery:
        first, last = parse_day(params.get("from")), parse_day(params.get("to"))
        custom = "from" in params or "to" in params or params.get("period") == CUSTOM
        return cls(
            period=None if custom else _member(PeriodName, params.get("period")) or DEFAULT_PERIOD,
            first=first,
            last=last,
            types=tuple(t for t in map(partial(_member, IncidentType), params.getlist("type")) if t),
            camera_ids=tuple(c for c in params.getlist("camera") if c in camera_ids),
        )

    def period_on(self, today: date) -> Period:
        """The days it covers seen on the local day `today`; MissingDates or PeriodError (its rules)."""
        if self.period is not None:
            return named_period(self.period, today)
        if self.first is None or self.last is None:
            raise MissingDates("a custom range needs both dates")
        return Period(self.first, self.last)

    def url(self) -> str:
        params: list[tuple[str, str]] = []
        days = [(key, day.isoformat()) for key, day in (("from", self.first), ("to", self.last)) if day]
        if self.period is not None or not days:
            params.append(("period", self.period.value if self.period else CUSTOM))
        else:
            params += days
        params += [("type", t.value) for t in self.types] + [("camera", c) for c in self.camera_ids]
        return "/reports?" + urlencode(params)


def _member(kind: type[E], value: str | None) -> E | None:
    return next((member for member in kind if member.value == value), None)


def parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
