"""The work queue's reads (issue 20, findings 3 and 5): the order by severity then age, page by page
on SQLite and PostgreSQL; "assigned to me"; open incidents per camera, new apart from those being
handled."""

import pytest
from api_support import T0, Api

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import Action, CloseReason
from citywatch.domain.stored_incident import IncidentStatus
from citywatch.services.permissions import Caller
from citywatch.services.search import CursorError, IncidentFilter, OpenIncidents, SortKey
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.users import Role


def _viewer(api: Api) -> Caller:
    caller = api.context.authority.caller(api.tokens[Role.VIEWER], "api")
    assert caller is not None
    return caller


def test_the_queue_puts_the_oldest_of_the_highest_severity_first_page_by_page(api: Api) -> None:
    # (type, minutes after T0): fire and fight are high, fall and no_helmet medium
    stored = [
        (IncidentType.FALL, 0),
        (IncidentType.FIRE, 30),
        (IncidentType.NO_HELMET, 5),
        (IncidentType.FIGHT, 10),
        (IncidentType.FIRE, 10),  # the same time as the fight: the id breaks the tie
        (IncidentType.FALL, 20),
        (IncidentType.WEAPON, 50),
    ]
    ids = {api.add_incident("cam01", t, T0 + 60 * m, with_evidence=False): (t, m) for t, m in stored}
    caller = _viewer(api)
    whole = api.context.incidents.search(caller, IncidentFilter(), SortKey.URGENT, limit=50).items
    order = [ids[i.id] for i in whole]
    assert [minutes for _, minutes in order] == [10, 10, 30, 50, 0, 5, 20]
    assert [i.id for i in whole[:2]] == sorted(i.id for i in whole[:2])  # a tie goes by id
    assert [t for t, _ in order[2:]] == [
        IncidentType.FIRE,
        IncidentType.WEAPON,
        IncidentType.FALL,
        IncidentType.NO_HELMET,
        IncidentType.FALL,
    ]

    paged, cursor = [], None
    while True:  # two a page: the same order, nothing twice, nothing left out
        page = api.context.incidents.search(caller, IncidentFilter(), SortKey.URGENT, limit=2, cursor=cursor)
        paged += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [i.id for i in paged] == [i.id for i in whole]
    newest = api.context.incidents.search(caller, IncidentFilter(), SortKey.NEWEST, limit=2).next_cursor
    with pytest.raises(CursorError):
        api.context.incidents.search(caller, IncidentFilter(), SortKey.URGENT, cursor=newest)

    response = api.client.get(
        "/api/incidents", params={"sort": "-severity", "limit": 3}, headers=api.headers(Role.VIEWER)
    )
    assert response.status_code == 200, response.text
    assert [i["id"] for i in response.json()["items"]] == [i.id for i in whole[:3]]


def test_assigned_to_me_and_open_incidents_per_camera_new_apart_from_handled(api: Api) -> None:
    lifecycle = IncidentLifecycle(api.store)
    cam01 = [api.add_incident("cam01", IncidentType.FIGHT, T0 + i, with_evidence=False) for i in range(5)]
    tampered = IncidentType.CAMERA_TAMPERED
    cam02 = [api.add_incident("cam02", tampered, T0 + i, with_evidence=False) for i in range(2)]
    lifecycle.change_status(cam01[0], Action.ASSIGN, "operator1", user="operator1")
    lifecycle.change_status(cam01[1], Action.ASSIGN, "operator1", user="supervisor1")
    lifecycle.change_status(cam01[2], Action.ACKNOWLEDGE, "operator1")
    lifecycle.change_status(cam01[3], Action.RESOLVE, "operator1", reason=CloseReason.HANDLED)
    lifecycle.change_status(cam02[0], Action.ASSIGN, "supervisor1", user="operator1")
    # closed: no longer in anyone's queue
    lifecycle.change_status(cam02[0], Action.RESOLVE, "operator1", reason=CloseReason.HANDLED)
    caller = _viewer(api)

    mine = IncidentFilter(statuses=[IncidentStatus.ASSIGNED], assigned_user="operator1")
    assert [i.id for i in api.context.incidents.search(caller, mine).items] == [cam01[0]]

    assert api.context.incidents.open_by_camera(caller) == {
        "cam01": OpenIncidents(new=1, handling=3, types=frozenset({"fight"})),
        "cam02": OpenIncidents(new=1, handling=0, types=frozenset({"camera_tampered"})),
    }
