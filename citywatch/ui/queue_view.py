"""What the Live page's work queue shows, as a URL: the status tab, the types and cameras, the page.

The page reads it from the query string when it opens and writes it back (history.replaceState)
whenever it changes, so Back from an incident, a bookmark, a link sent to a colleague or the
header's counter (`/?status=new`) opens the same list: `/?status=new&type=fight&camera=cam-03&page=2`
(type and camera may repeat). Unknown values are left out (a stale link opens what still exists).

The work tabs (new, acknowledged, assigned to me) are in queue order: the oldest incident of the
highest severity first (services.search.SortKey.URGENT). Closed and all are in time order, the
newest first: they are history and the live stream, not work waiting, and they hold the thousands
of incidents a month, whose pages the index serves at any depth.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import OPEN_STATUSES
from citywatch.domain.stored_incident import IncidentStatus
from citywatch.services.search import IncidentFilter, SortKey

QueueStatus = Literal["new", "acknowledged", "mine", "closed", "all"]
QUEUE_STATUSES: tuple[QueueStatus, ...] = get_args(QueueStatus)
WORK_STATUSES: frozenset[QueueStatus] = frozenset({"new", "acknowledged", "mine"})
MAX_PAGE = 1000
"""A link's page beyond this opens this one (each page before it is one query)."""

_TYPE_NAMES = frozenset(t.value for t in IncidentType)
_STATUSES: dict[QueueStatus, tuple[IncidentStatus, ...]] = {
    "new": (IncidentStatus.NEW,),
    "acknowledged": (IncidentStatus.ACKNOWLEDGED,),
    "mine": (IncidentStatus.ASSIGNED,),
    "closed": tuple(s for s in IncidentStatus if s not in OPEN_STATUSES),
    "all": (),
}


@dataclass(frozen=True, slots=True)
class QueueView:
    status: QueueStatus = "all"
    types: tuple[IncidentType, ...] = ()
    cameras: tuple[str, ...] = ()
    page: int = 1

    @classmethod
    def from_query(cls, query: QueryParams, camera_ids: Collection[str]) -> QueueView:
        status = query.get("status", "all")
        try:
            page = min(max(int(query.get("page", "1")), 1), MAX_PAGE)
        except ValueError:
            page = 1
        return cls(
            status=status if status in QUEUE_STATUSES else "all",  # type: ignore[arg-type]
            types=tuple(IncidentType(t) for t in _distinct(query.getlist("type")) if t in _TYPE_NAMES),
            cameras=tuple(c for c in _distinct(query.getlist("camera")) if c in camera_ids),
            page=page,
        )

    def url(self) -> str:
        pairs = [("status", self.status)] if self.status != "all" else []
        pairs += [("type", t.value) for t in self.types] + [("camera", c) for c in self.cameras]
        pairs += [("page", str(self.page))] if self.page > 1 else []
        return "/?" + urlencode(pairs) if pairs else "/"

    def where(self, actor: str) -> IncidentFilter:
        """The incidents of this view for the user `actor` (whose "assigned to me" it is)."""
        return IncidentFilter(
            types=self.types,
            camera_ids=self.cameras,
            statuses=_STATUSES[self.status],
            assigned_user=actor if self.status == "mine" else None,
        )

    @property
    def sort(self) -> SortKey:
        return SortKey.URGENT if self.status in WORK_STATUSES else SortKey.NEWEST


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
