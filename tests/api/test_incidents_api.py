"""The incident endpoints against the real app and database: lists, filters, pages, one incident
with its history and group, and what operators do."""

from datetime import UTC, datetime

import httpx
from api_support import T0, Api

from citywatch.domain.incident_types import IncidentType
from citywatch.storage.users import Role


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat()


def test_list_filters_by_type_camera_status_and_time(api: Api) -> None:
    fire = api.add_incident("cam01", IncidentType.FIRE, T0, with_evidence=False)
    fall = api.add_incident("cam02", IncidentType.FALL, T0 + 3600, with_evidence=False)
    later = api.add_incident("cam01", IncidentType.FALL, T0 + 7200, with_evidence=False)
    api.client.post(
        f"/api/incidents/{fall}/acknowledge", headers=api.headers(Role.OPERATOR)
    ).raise_for_status()

    def ids(**params: object) -> list[str]:
        response = api.client.get("/api/incidents", params=params, headers=api.headers(Role.VIEWER))
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [later, fall, fire]
    assert ids(type="fall") == [later, fall]
    assert ids(camera="cam01") == [later, fire]
    assert ids(type=["fire", "fall"], camera="cam02") == [fall]
    assert ids(status="acknowledged") == [fall]
    assert ids(since=iso(T0 + 1), until=iso(T0 + 7200)) == [fall]
    assert ids(since="2023-11-15T00:13:20") == [later]  # no offset: UTC
    assert ids(sort="started_at") == [fire, fall, later]


def test_cursor_pages_return_every_incident_once_in_sort_order(api: Api) -> None:
    # Ties on started_at and on confidence: the id breaks them, across page boundaries too.
    for i in range(8):
        api.add_incident(started_at=T0 + i // 3, confidence=0.5 + (i % 2) / 10, with_evidence=False)
    for sort in ("-started_at", "started_at", "-confidence", "confidence"):
        everything = api.client.get(
            "/api/incidents", params={"sort": sort, "limit": 100}, headers=api.headers(Role.VIEWER)
        ).json()["items"]
        paged, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 3} | ({"cursor": cursor} if cursor else {})
            page = api.client.get("/api/incidents", params=params, headers=api.headers(Role.VIEWER)).json()
            paged += page["items"]
            if (cursor := page["next_cursor"]) is None:
                break
        assert [i["id"] for i in paged] == [i["id"] for i in everything]
        assert len(paged) == 8
        key = "started_at" if "started_at" in sort else "confidence"
        values = [i[key] for i in paged]
        assert values == sorted(values, reverse=sort.startswith("-"))
    wrong = api.client.get("/api/incidents", params={"cursor": "nonsense"}, headers=api.headers(Role.VIEWER))
    assert wrong.status_code == 400


def test_lifecycle_actions_record_who_and_when(api: Api) -> None:
    incident = api.add_incident()
    operator, supervisor = api.headers(Role.OPERATOR), api.headers(Role.SUPERVISOR)
    url = f"/api/incidents/{incident}"

    acknowledged = api.client.post(f"{url}/acknowledge", headers=operator).json()
    assert (acknowledged["status"], acknowledged["acknowledged_by"]) == ("acknowledged", "operator1")
    assert api.client.post(f"{url}/acknowledge", headers=operator).status_code == 409
    assert api.client.post(f"{url}/assign", json={"user": "nobody"}, headers=operator).status_code == 422
    assert api.client.post(f"{url}/assign", json={}, headers=operator).status_code == 422
    assigned = api.client.post(
        f"{url}/assign", json={"user": "viewer1", "note": "near"}, headers=operator
    ).json()
    assert (assigned["status"], assigned["assigned_user"]) == ("assigned", "viewer1")
    reassigned = api.client.post(f"{url}/assign", json={"unit": "สายตรวจ 3"}, headers=operator).json()
    assert (reassigned["assigned_user"], reassigned["assigned_unit"]) == (None, "สายตรวจ 3")
    note = api.client.post(f"{url}/notes", json={"note": "ไฟไหม้ร้านค้า"}, headers=operator)
    assert note.status_code == 201
    assert api.client.post(f"{url}/lock", json={"note": "court case"}, headers=supervisor).json()["locked"]
    resolved = api.client.post(f"{url}/resolve", json={"reason": "handled"}, headers=operator).json()
    assert (resolved["status"], resolved["close_reason"], resolved["closed_by"]) == (
        "resolved",
        "handled",
        "operator1",
    )
    duplicate = {"reason": "duplicate"}
    assert (
        api.client.post(f"{url}/false_alarm", json=duplicate, headers=operator).status_code == 409
    )  # closed

    detail = api.client.get(url, headers=api.headers(Role.VIEWER)).json()
    history = [(e["actor"], e["action"], e["from_status"], e["to_status"]) for e in detail["history"]]
    assert history == [
        ("operator1", "acknowledge", "new", "acknowledged"),
        ("operator1", "assign", "acknowledged", "assigned"),
        ("operator1", "assign", "assigned", "assigned"),
        ("operator1", "note", None, None),
        ("supervisor1", "lock", None, None),
        ("operator1", "resolve", "assigned", "resolved"),
    ]
    assert [e["details"] for e in detail["history"][1:3]] == [{"user": "viewer1"}, {"unit": "สายตรวจ 3"}]
    assert detail["history"][3]["note"] == "ไฟไหม้ร้านค้า"
    assert all(e["at"] for e in detail["history"])
    audit = api.client.get(
        "/api/audit", params={"actor": "operator1"}, headers=api.headers(Role.ADMIN)
    ).json()
    assert {e["action"] for e in audit} >= {"incident.acknowledge", "incident.assign", "incident.resolve"}
    missing = api.client.post(
        "/api/incidents/0123456789abcdef/resolve", json={"reason": "handled"}, headers=operator
    )
    assert missing.status_code == 404


def test_closing_needs_a_reason_of_its_status_and_a_supervisor_reopens(api: Api) -> None:
    """Finding 6 (issue 20): `reason` is required on resolve and false_alarm (422 naming the reasons
    offered when it is another status's), stored with the time and the closer; reopen (supervisors,
    with a note) clears them and goes back to the assignment."""
    incident = api.add_incident()
    operator, supervisor = api.headers(Role.OPERATOR), api.headers(Role.SUPERVISOR)
    url = f"/api/incidents/{incident}"
    api.client.post(f"{url}/assign", json={"unit": "Patrol 3"}, headers=operator).raise_for_status()

    def close(action: str, body: dict | None) -> httpx.Response:
        return api.client.post(f"{url}/{action}", json=body, headers=operator)

    assert close("resolve", None).status_code == 422  # an old client's empty body
    assert close("resolve", {"note": "done"}).status_code == 422
    assert close("resolve", {"reason": "because"}).status_code == 422
    wrong = close("resolve", {"reason": "wrong_detection"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"] == (
        "'wrong_detection' is not a reason for resolved: one of handled, referred, no_action_needed, other"
    )
    assert "needs a note" in close("false_alarm", {"reason": "other"}).json()["detail"]
    assert api.client.get(url, headers=operator).json()["status"] == "assigned"  # none of it stored

    closed = close("false_alarm", {"reason": "other", "note": "a cat on the lens"}).json()
    assert (closed["status"], closed["close_reason"], closed["closed_by"]) == (
        "false_alarm",
        "other",
        "operator1",
    )
    assert closed["closed_at"] and closed["history"][-1]["details"] == {"reason": "other"}
    assert closed["history"][-1]["note"] == "a cat on the lens"

    assert api.client.post(f"{url}/reopen", json={"note": "x"}, headers=operator).status_code == 403
    assert api.client.post(f"{url}/reopen", json={}, headers=supervisor).status_code == 422
    assert api.client.post(f"{url}/reopen", json={"note": "  "}, headers=supervisor).status_code == 422
    reopened = api.client.post(f"{url}/reopen", json={"note": "the cat was a man"}, headers=supervisor)
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert (
        body["status"],
        body["assigned_unit"],
        body["closed_at"],
        body["closed_by"],
        body["close_reason"],
    ) == (
        "assigned",
        "Patrol 3",
        None,
        None,
        None,
    )
    last = body["history"][-1]
    assert (last["actor"], last["action"], last["from_status"], last["to_status"], last["note"]) == (
        "supervisor1",
        "reopen",
        "false_alarm",
        "assigned",
        "the cat was a man",
    )
    assert api.client.post(f"{url}/reopen", json={"note": "again"}, headers=supervisor).status_code == 409
    audit = api.client.get("/api/audit", params={"actor": "supervisor1"}, headers=api.headers(Role.ADMIN))
    assert "incident.reopen" in {e["action"] for e in audit.json()}

    schema = api.client.get("/openapi.json").json()["components"]["schemas"]
    assert schema["Closing"]["required"] == ["reason"]
    assert "is required" in schema["Closing"]["description"]
    assert "resolved: handled, referred" in schema["Closing"]["properties"]["reason"]["description"]


def test_related_incidents_of_one_camera_and_type_are_grouped(api: Api) -> None:
    first = api.add_incident("cam01", IncidentType.FIRE, T0, with_evidence=False)
    second = api.add_incident("cam01", IncidentType.FIRE, T0 + 200, with_evidence=False)  # within 300 s
    third = api.add_incident("cam01", IncidentType.FIRE, T0 + 450, with_evidence=False)  # 250 s after the 2nd
    other_camera = api.add_incident("cam02", IncidentType.FIRE, T0 + 10, with_evidence=False)
    other_type = api.add_incident("cam01", IncidentType.FALL, T0 + 20, with_evidence=False)
    alone = api.add_incident("cam01", IncidentType.FIRE, T0 + 2000, with_evidence=False)

    def get(incident: str) -> dict:
        return api.client.get(f"/api/incidents/{incident}", headers=api.headers(Role.VIEWER)).json()

    assert {get(i)["group_id"] for i in (first, second, third)} == {first}
    assert get(third)["related"] == [second, first]
    assert [get(i)["group_id"] for i in (other_camera, other_type, alone)] == [
        other_camera,
        other_type,
        alone,
    ]
    assert get(alone)["related"] == []
    listed = api.client.get(
        "/api/incidents", params={"group": first}, headers=api.headers(Role.VIEWER)
    ).json()
    assert [i["id"] for i in listed["items"]] == [third, second, first]
