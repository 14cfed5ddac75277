"""Evidence files over HTTP: whole files, byte ranges (206) for seeking, audit of each view."""

from api_support import CLIP, Api
from sqlalchemy.orm import Session

from citywatch.paths import datasets_dir
from citywatch.storage.schema import IncidentRow
from citywatch.storage.users import Role


def test_clip_supports_range_requests_and_views_are_audited(api: Api) -> None:
    incident = api.add_incident()
    original = (datasets_dir() / CLIP).read_bytes()
    viewer = api.headers(Role.VIEWER)
    url = f"/api/incidents/{incident}/clip"

    whole = api.client.get(url, headers=viewer)
    assert (whole.status_code, whole.headers["content-type"]) == (200, "video/mp4")
    assert whole.content == original
    assert whole.headers["accept-ranges"] == "bytes"

    part = api.client.get(url, headers=viewer | {"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.content == original[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(original)}"
    tail = api.client.get(url, headers=viewer | {"Range": "bytes=-100"})
    assert (tail.status_code, tail.content) == (206, original[-100:])
    beyond = api.client.get(url, headers=viewer | {"Range": f"bytes={len(original) + 10}-"})
    assert beyond.status_code == 416

    snapshot = api.client.get(f"/api/incidents/{incident}/snapshot", headers=viewer)
    assert (snapshot.status_code, snapshot.headers["content-type"]) == (200, "image/jpeg")
    assert snapshot.content[:3] == b"\xff\xd8\xff"

    audit = api.client.get("/api/audit", params={"action": "evidence.view"}, headers=api.headers(Role.ADMIN))
    targets = [(e["actor"], e["target"]) for e in audit.json()]
    # the whole clip and the snapshot; seeking within a clip is not a new view
    assert targets == [("viewer1", f"incident:{incident}/snapshot"), ("viewer1", f"incident:{incident}/clip")]


def test_missing_and_outside_evidence_is_404(api: Api, tmp_path) -> None:
    no_files = api.add_incident(with_evidence=False)
    viewer = api.headers(Role.VIEWER)
    assert api.client.get(f"/api/incidents/{no_files}/clip", headers=viewer).status_code == 404
    assert api.client.get("/api/incidents/0123456789abcdef/snapshot", headers=viewer).status_code == 404

    (tmp_path / "secret.txt").write_text("outside the evidence folder")
    incident = api.add_incident(with_evidence=False)

    def point_outside(session: Session) -> None:
        session.get(IncidentRow, incident).snapshot_path = "../secret.txt"

    api.store.write("point a snapshot outside the evidence folder", point_outside)
    assert api.client.get(f"/api/incidents/{incident}/snapshot", headers=viewer).status_code == 404
