"""Signed snapshot links (what LINE fetches): no login, only a valid, unexpired signature."""

from dataclasses import replace

from api_support import LINK_SECRET, Api
from fastapi.testclient import TestClient

from citywatch.api.app import create_app
from citywatch.notifiers.evidence_links import snapshot_link
from citywatch.storage.users import Role


def link(incident_id: str, ttl_s: float = 600, secret: str = LINK_SECRET) -> str:
    return snapshot_link("", secret, incident_id, ttl_s)


def test_a_valid_link_serves_the_snapshot_without_login_and_is_audited(api: Api) -> None:
    incident = api.add_incident()
    api.client.cookies.clear()
    answer = api.client.get(link(incident))
    assert (answer.status_code, answer.headers["content-type"]) == (200, "image/jpeg")
    stored = api.store.get(incident)
    assert answer.content == (api.evidence_dir / stored.snapshot_path).read_bytes()

    audit = api.client.get("/api/audit", params={"action": "evidence.view"}, headers=api.headers(Role.ADMIN))
    assert [(e["actor"], e["target"]) for e in audit.json()] == [
        ("shared-link", f"incident:{incident}/snapshot")
    ]


def test_expired_or_tampered_links_are_403(api: Api) -> None:
    incident, other = api.add_incident(), api.add_incident()
    good = link(incident)
    path, query = good.split("?")
    expires, signature = (part.split("=")[1] for part in query.split("&"))
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    bad_links = [
        link(incident, ttl_s=-1),  # expired a second ago
        f"{path}?expires={expires}&signature={flipped}",
        f"{path}?expires={int(expires) + 3600}&signature={signature}",  # a longer life, same signature
        good.replace(incident, other),  # another incident's snapshot with this signature
        link(incident, secret="another-secret-of-16-chars"),
        f"{path}?expires={expires}&signature=ünïcode",
        f"{path}?expires={expires}&signature=",
    ]
    admin = api.headers(Role.ADMIN)
    for bad in bad_links:
        assert api.client.get(bad).status_code == 403, bad
        assert api.client.get(bad, headers=admin).status_code == 403, "a login does not stand in for it"
    assert api.client.get(path).status_code == 422  # no expires, no signature
    assert api.client.get(good).status_code == 200


def test_no_secret_configured_or_no_snapshot_is_404(api: Api) -> None:
    without_files = api.add_incident(with_evidence=False)
    assert api.client.get(link(without_files)).status_code == 404
    assert api.client.get(link("0123456789abcdef")).status_code == 404  # no such incident

    incident = api.add_incident()
    unsigned = TestClient(create_app(replace(api.context, link_secret=None)))  # no lifespan: same store
    assert unsigned.get(link(incident)).status_code == 404
