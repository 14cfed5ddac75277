"""Incidents: the list (filters, sorting, cursor pages), one incident with its history and group,
and what operators do to them."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, status

from citywatch.api.auth import Context, Viewer, may, refusals_as_http
from citywatch.api.schemas import (
    Assignment,
    Closing,
    IncidentDetail,
    IncidentEventOut,
    IncidentOut,
    IncidentPage,
    NoteIn,
    Reopening,
    StatusChange,
)
from citywatch.config import CAMERA_ID_MAX_LENGTH, CAMERA_ID_PATTERN
from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import (
    Action,
    CloseReason,
    IncidentEvent,
    IncidentNotFound,
    LifecycleError,
    TransitionError,
)
from citywatch.domain.stored_incident import IncidentStatus, StoredIncident
from citywatch.services.incident_actions import ActionInput
from citywatch.services.permissions import Caller
from citywatch.services.search import CursorError, IncidentFilter, SortKey, as_utc

router = APIRouter(prefix="/incidents", tags=["incidents"])
T = TypeVar("T")

IncidentId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
CameraId = Annotated[str, Query(pattern=CAMERA_ID_PATTERN, max_length=CAMERA_ID_MAX_LENGTH)]
_NOT_FOUND = {404: {"description": "No such incident"}}


_CONFLICT = {409: {"description": "Not allowed in the incident's current status"}}


def utc(value: datetime | None, name: str) -> datetime | None:
    """Query time `name` in UTC (UTC if it has no offset); 422 when UTC has no such time."""
    if value is None:
        return None
    try:
        return as_utc(value)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name}: {exc}") from exc


def incident_filter(
    type: list[IncidentType] | None = None,
    camera: list[CameraId] | None = None,
    status: list[IncidentStatus] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    group: str | None = None,
) -> IncidentFilter:
    return IncidentFilter(
        types=type or (),
        camera_ids=camera or (),
        statuses=status or (),
        since=utc(since, "since"),
        until=utc(until, "until"),
        group_id=group,
    )


@router.get("", responses={400: {"description": "Invalid cursor"}})
def list_incidents(
    caller: Viewer,
    context: Context,
    type: Annotated[list[IncidentType] | None, Query(description="Any of these types.")] = None,
    camera: Annotated[list[CameraId] | None, Query(description="Any of these cameras.")] = None,
    status: Annotated[list[IncidentStatus] | None, Query(description="Any of these statuses.")] = None,
    since: Annotated[datetime | None, Query(description="Started at or after (UTC if no offset).")] = None,
    until: Annotated[datetime | None, Query(description="Started before (UTC if no offset).")] = None,
    group: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="Group id.")] = None,
    sort: SortKey = SortKey.NEWEST,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the last page.")
    ] = None,
) -> IncidentPage:
    where = incident_filter(type, camera, status, since, until, group)
    try:
        page = context.incidents.search(caller, where, sort=sort, limit=limit, cursor=cursor)
    except CursorError as exc:
        raise HTTPException(400, str(exc)) from None
    return IncidentPage(items=[IncidentOut.of(i) for i in page.items], next_cursor=page.next_cursor)


@router.get("/{incident_id}", responses=_NOT_FOUND)
def get_incident(incident_id: IncidentId, caller: Viewer, context: Context) -> IncidentDetail:
    incident = context.incidents.get(caller, incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident")
    return _detail(context, caller, incident)


@router.post("/{incident_id}/acknowledge", responses=_NOT_FOUND | _CONFLICT)
def acknowledge(
    incident_id: IncidentId,
    caller: Annotated[Caller, may(Action.ACKNOWLEDGE)],
    context: Context,
    body: StatusChange | None = None,
) -> IncidentDetail:
    return _status_action(context, caller, incident_id, Action.ACKNOWLEDGE, body)


@router.post("/{incident_id}/assign", responses=_NOT_FOUND | _CONFLICT)
def assign(
    incident_id: IncidentId,
    body: Assignment,
    caller: Annotated[Caller, may(Action.ASSIGN)],
    context: Context,
) -> IncidentDetail:
    """Assign to a user (by name) or to a unit (free text, e.g. 'Patrol 3')."""
    return _status_action(context, caller, incident_id, Action.ASSIGN, body, user=body.user, unit=body.unit)


@router.post("/{incident_id}/resolve", responses=_NOT_FOUND | _CONFLICT)
def resolve(
    incident_id: IncidentId,
    body: Closing,
    caller: Annotated[Caller, may(Action.RESOLVE)],
    context: Context,
) -> IncidentDetail:
    """Close as dealt with, with a `reason` offered for `resolved` (required; see `Closing`); no
    reason, another status's reason or `other` without a note is a 422."""
    return _status_action(context, caller, incident_id, Action.RESOLVE, body, reason=body.reason)


@router.post("/{incident_id}/false_alarm", responses=_NOT_FOUND | _CONFLICT)
def false_alarm(
    incident_id: IncidentId,
    body: Closing,
    caller: Annotated[Caller, may(Action.FALSE_ALARM)],
    context: Context,
) -> IncidentDetail:
    """Close as a false alarm, with a `reason` offered for `false_alarm` (required; see `Closing`); no
    reason, another status's reason or `other` without a note is a 422."""
    return _status_action(context, caller, incident_id, Action.FALSE_ALARM, body, reason=body.reason)


@router.post("/{incident_id}/reopen", responses=_NOT_FOUND | _CONFLICT)
def reopen(
    incident_id: IncidentId,
    body: Reopening,
    caller: Annotated[Caller, may(Action.REOPEN)],
    context: Context,
) -> IncidentDetail:
    """Reopen a resolved or false-alarm incident (supervisors), with a note saying why: it is
    assigned again if it had an assignee, else acknowledged; its closing time, closer and reason
    are cleared (the history keeps them)."""
    return _status_action(context, caller, incident_id, Action.REOPEN, body)


@router.post("/{incident_id}/notes", status_code=status.HTTP_201_CREATED, responses=_NOT_FOUND)
def add_note(
    incident_id: IncidentId,
    body: NoteIn,
    caller: Annotated[Caller, may(Action.NOTE)],
    context: Context,
) -> IncidentEventOut:
    event = _act(context, caller, incident_id, Action.NOTE, ActionInput(note=body.note))
    assert isinstance(event, IncidentEvent)
    return IncidentEventOut.of(event)


@router.post("/{incident_id}/lock", responses=_NOT_FOUND)
def lock(
    incident_id: IncidentId,
    caller: Annotated[Caller, may(Action.LOCK)],
    context: Context,
    body: StatusChange | None = None,
) -> IncidentDetail:
    """Keep the evidence: retention never deletes a locked incident's snapshot and clip."""
    return _status_action(context, caller, incident_id, Action.LOCK, body)


@router.post("/{incident_id}/unlock", responses=_NOT_FOUND)
def unlock(
    incident_id: IncidentId,
    caller: Annotated[Caller, may(Action.UNLOCK)],
    context: Context,
    body: StatusChange | None = None,
) -> IncidentDetail:
    return _status_action(context, caller, incident_id, Action.UNLOCK, body)


def _detail(context: Context, caller: Caller, incident: StoredIncident) -> IncidentDetail:
    history = [IncidentEventOut.of(e) for e in context.incidents.history(caller, incident.id)]
    related = context.incidents.related(caller, incident)
    return IncidentDetail(**IncidentOut.of(incident).model_dump(), history=history, related=related)


def _lifecycle(change: Callable[[], T]) -> T:
    with refusals_as_http():
        try:
            return change()
        except IncidentNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident") from None
        except TransitionError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        except LifecycleError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def _act(
    context: Context, caller: Caller, incident_id: str, action: Action, data: ActionInput
) -> StoredIncident | IncidentEvent:
    """The action through `context.actions`: the credential checked again, the change and its audit
    row in one transaction."""
    return _lifecycle(lambda: context.actions.perform(caller, incident_id, action, data))


def _status_action(
    context: Context,
    caller: Caller,
    incident_id: str,
    action: Action,
    body: StatusChange | Assignment | Closing | Reopening | None,
    user: str | None = None,
    unit: str | None = None,
    reason: CloseReason | None = None,
) -> IncidentDetail:
    note = body.note if body is not None else None
    incident = _act(context, caller, incident_id, action, ActionInput(note, user, unit, reason))
    assert isinstance(incident, StoredIncident)
    return _detail(context, caller, incident)
