"""Finding 5 of the security probe (issue 14): every way of seeing evidence leaves an audit row,
whatever the Range header says, the dashboard's thumbnails and camera pictures included."""

import itertools

import httpx
import pytest
from api_support import PASSWORD, Api
from dashboard_support import PASSWORD as UI_PASSWORD
from dashboard_support import Server

from citywatch.storage.audit import AuditLog
from citywatch.storage.users import Role, UserDirectory

_names = itertools.count(1)


def _viewer(api: Api) -> tuple[str, dict[str, str]]:
    name = f"watcher{next(_names)}"
    token, _ = api.context.users.start_session(api.context.users.add_user(name, Role.VIEWER, PASSWORD))
    return name, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("range_header", ["bytes=-999999999", "bytes=00-", "bytes=1-", "bytes=0-0,1-"])
def test_a_clip_seen_through_any_range_is_audited(api: Api, range_header: str) -> None:
    incident = api.add_incident()
    name, headers = _viewer(api)
    response = api.client.get(f"/api/incidents/{incident}/clip", headers=headers | {"Range": range_header})
    assert response.status_code in (200, 206)
    entries = api.context.audit.entries(actor=name, action="evidence.view")
    assert [e.target for e in entries] == [f"incident:{incident}/clip"]


def test_a_players_seeks_are_one_view(api: Api) -> None:
    incident = api.add_incident()
    name, headers = _viewer(api)
    for start in (0, 1000, 5000, 0):
        api.client.get(f"/api/incidents/{incident}/clip", headers=headers | {"Range": f"bytes={start}-"})
    assert len(api.context.audit.entries(actor=name, action="evidence.view")) == 1


def test_dashboard_thumbnails_and_camera_pictures_are_audited(server: Server) -> None:
    name = f"thumbs{next(_names)}"
    UserDirectory(server.store).add_user(name, Role.VIEWER, UI_PASSWORD)
    incident = server.add_incident("street-01")
    with httpx.Client(base_url=server.url) as client:
        assert (
            client.post("/api/auth/login", json={"username": name, "password": UI_PASSWORD}).status_code
            == 200
        )
        assert client.get(f"/ui/incidents/{incident}/thumb.jpg").status_code == 200
        assert client.get("/ui/cameras/street-01/frame.jpg").status_code == 200
    entries = AuditLog(server.store).entries(actor=name)
    targets = sorted(e.target or "" for e in entries if e.action.endswith(".view"))
    assert targets == ["camera:street-01", f"incident:{incident}/thumbnail"]
