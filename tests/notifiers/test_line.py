"""LINE push against a local HTTP server standing in for api.line.me."""

import time
import uuid
from urllib.parse import parse_qs, urlsplit

from notifier_services import Receiver, incident

from citywatch.config import LineSettings, NotificationSettings
from citywatch.domain.incident_types import IncidentType
from citywatch.notifiers.dispatcher import Notifier
from citywatch.notifiers.evidence_links import link_is_valid
from citywatch.notifiers.line import LineChannel

TOKEN = "line-channel-token-for-tests"
LINK_SECRET = "evidence-link-secret-0123"


def _notifier(receiver: Receiver, dead: list, **settings: object) -> Notifier:
    line = LineSettings(
        channel_access_token=TOKEN, to=["U1234", "C5678"], base_url=receiver.url, backoff_initial_s=0.05
    )
    config = NotificationSettings(line=line, **settings)
    notifier = Notifier(
        config,
        [LineChannel(line, config)],
        snapshot_of=lambda incident_id: f"cam09/2024-05-01/{incident_id}.jpg",
        dead_letter=lambda *a: dead.append(a),
    )
    notifier.start()
    return notifier


def test_push_per_recipient_with_text_and_signed_snapshot_link(receiver: Receiver) -> None:
    dead: list = []
    notifier = _notifier(
        receiver, dead, public_base_url="https://citywatch.example.go.th", evidence_link_secret=LINK_SECRET
    )
    # 2024-05-01 07:03:22 UTC is 14:03:22 in Bangkok
    weapon = incident(IncidentType.WEAPON, "cam09", started_at=1714547002.0)
    weapon.subtype = "knife"
    notifier.on_incident(weapon)
    requests = receiver.wait_for(2)
    notifier.stop()

    assert dead == []
    assert sorted(r.json()["to"] for r in requests) == ["C5678", "U1234"]
    for request in requests:
        assert request.path == "/v2/bot/message/push"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Content-Type"] == "application/json"
        uuid.UUID(request.headers["X-Line-Retry-Key"])
        text, image = request.json()["messages"]
        assert text["type"] == "text"
        assert "weapon/knife" in text["text"] and "อาวุธ" in text["text"]
        assert "cam09" in text["text"] and "2024-05-01 14:03:22 (Asia/Bangkok)" in text["text"]
        assert "87%" in text["text"]
        assert image["type"] == "image" and image["previewImageUrl"] == image["originalContentUrl"]
        link = urlsplit(image["originalContentUrl"])
        assert (link.scheme, link.netloc) == ("https", "citywatch.example.go.th")
        assert link.path == f"/api/shared/snapshots/{weapon.id}.jpg"
        query = {k: v[0] for k, v in parse_qs(link.query).items()}
        expires = int(query["expires"])
        assert expires > time.time() + 6 * 86400
        assert link_is_valid(LINK_SECRET, weapon.id, expires, query["signature"])
        assert not link_is_valid(LINK_SECRET, "another-incident", expires, query["signature"])
        assert not link_is_valid(LINK_SECRET, weapon.id, expires, query["signature"], now=expires + 1)


def test_text_only_without_public_url_and_same_retry_key_on_every_try(receiver: Receiver) -> None:
    receiver.script = [500, 409]  # 409: LINE already accepted this retry key
    dead: list = []
    notifier = _notifier(receiver, dead)
    notifier.on_incident(incident(IncidentType.FALL, "cam09"))
    requests = receiver.wait_for(3)
    time.sleep(0.2)
    notifier.stop()
    assert dead == []
    assert len(receiver.requests) == 3
    by_recipient: dict[str, set[str]] = {}
    for request in requests:
        assert [m["type"] for m in request.json()["messages"]] == ["text"]
        by_recipient.setdefault(request.json()["to"], set()).add(request.headers["X-Line-Retry-Key"])
    assert all(len(keys) == 1 for keys in by_recipient.values())
    assert by_recipient["U1234"] != by_recipient["C5678"]
