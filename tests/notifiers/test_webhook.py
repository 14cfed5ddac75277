"""Webhooks against real local HTTP receivers: signature, retries with backoff, dead letters, and a
receiver that hangs while the event sink keeps storing."""

import itertools
import time
from pathlib import Path

import numpy as np
import pytest
from notifier_services import Receiver, incident

from citywatch.config import EvidenceSettings, NotificationSettings, WebhookSettings
from citywatch.domain.incident import IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.notifiers.dead_letters import DeadLetters
from citywatch.notifiers.dispatcher import Notifier, build_notifier
from citywatch.notifiers.webhook import WebhookChannel, verify
from citywatch.storage.evidence import EvidenceWriter
from citywatch.storage.sink import EventSink
from citywatch.storage.store import IncidentStore

SECRET = "s3cret-for-tests-0123456789"


def _webhook(name: str, receiver: Receiver, **kwargs: object) -> WebhookSettings:
    options = {"timeout_s": 2, "max_attempts": 3, "backoff_initial_s": 0.05} | kwargs
    return WebhookSettings(name=name, url=f"{receiver.url}/hook", secret=SECRET, **options)


@pytest.fixture
def store(tmp_path: Path):
    store = IncidentStore(f"sqlite:///{tmp_path / 'citywatch.db'}")
    store.upgrade()
    yield store
    store.dispose()


def test_incident_is_posted_signed(receiver: Receiver) -> None:
    settings = NotificationSettings(webhooks=[_webhook("ops", receiver)])
    dead: list = []
    notifier = Notifier(
        settings, [WebhookChannel(settings.webhooks[0])], dead_letter=lambda *a: dead.append(a)
    )
    notifier.start()
    fire = incident(IncidentType.FIRE, "cam03")
    notifier.on_incident(fire)
    [request] = receiver.wait_for(1)
    notifier.stop()

    headers = {k.lower(): v for k, v in request.headers.items()}
    assert request.path == "/hook"
    assert headers["content-type"] == "application/json"
    assert headers["x-citywatch-event"] == "incident"
    assert abs(int(headers["x-citywatch-timestamp"]) - time.time()) < 5
    assert verify(SECRET, headers["x-citywatch-timestamp"], request.body, headers["x-citywatch-signature"])
    assert not verify(
        SECRET, headers["x-citywatch-timestamp"], request.body + b" ", headers["x-citywatch-signature"]
    )
    assert not verify(
        "another-secret-0123456",
        headers["x-citywatch-timestamp"],
        request.body,
        headers["x-citywatch-signature"],
    )
    body = request.json()
    assert body["event"] == "incident"
    assert body["incident"]["id"] == fire.id
    assert body["incident"]["camera_id"] == "cam03" and body["incident"]["type"] == "fire"
    assert dead == []


def test_failing_receiver_is_retried_with_backoff_then_succeeds(receiver: Receiver) -> None:
    receiver.script = [500, 503, 429]
    settings = NotificationSettings(
        webhooks=[_webhook("ops", receiver, max_attempts=5, backoff_initial_s=0.1)]
    )
    notifier = Notifier(settings, [WebhookChannel(settings.webhooks[0])])
    notifier.start()
    notifier.on_incident(incident())
    requests = receiver.wait_for(4)
    notifier.stop()
    assert notifier.workers["ops"].stats.delivered == 1
    assert notifier.workers["ops"].stats.retried == 3
    assert len({r.headers["X-Citywatch-Delivery"] for r in requests}) == 1  # one message, four tries
    gaps = [b.at - a.at for a, b in itertools.pairwise(requests)]
    for gap, backoff in zip(gaps, (0.1, 0.2, 0.4), strict=True):
        assert gap >= backoff * 0.9


def test_refused_message_is_dead_lettered_at_once(receiver: Receiver, store: IncidentStore) -> None:
    receiver.default = 401
    settings = NotificationSettings(webhooks=[_webhook("ops", receiver)])
    notifier = Notifier(
        settings, [WebhookChannel(settings.webhooks[0])], dead_letter=DeadLetters(store.engine).record
    )
    notifier.start()
    notifier.on_incident(item := incident())
    receiver.wait_for(1)
    notifier.stop()
    [letter] = DeadLetters(store.engine).list()
    assert (letter.channel, letter.incident_id, letter.attempts, letter.last_error) == (
        "ops",
        item.id,
        1,
        "HTTP 401",
    )
    assert len(receiver.requests) == 1


def test_hanging_receiver_times_out_is_retried_and_dead_lettered_while_the_sink_goes_on(
    receiver: Receiver, second_receiver: Receiver, store: IncidentStore, tmp_path: Path
) -> None:
    receiver.default = 3.0  # every try hangs far past the 0.3 s timeout
    settings = NotificationSettings(
        webhooks=[_webhook("slow", receiver, timeout_s=0.3), _webhook("fast", second_receiver)]
    )
    notifier = build_notifier(settings, store, hub=None)
    sink = EventSink(
        store, EvidenceWriter(tmp_path / "evidence", EvidenceSettings()), EvidenceSettings(), lambda *_: []
    )
    sink.subscribe(notifier.on_incident)
    notifier.start()
    sink.start()
    raised = [incident(IncidentType.WEAPON, "cam01"), incident(IncidentType.FIGHT, "cam02")]
    raised[0].frame = np.full((240, 320, 3), 90, np.uint8)
    try:
        started = time.monotonic()
        for item in raised:
            sink.submit(IncidentRaised(item))
        assert time.monotonic() - started < 0.05

        # The other webhook gets both at once: the hanging one holds up only its own channel.
        fast = second_receiver.wait_for(2, timeout=3)
        assert fast[-1].at - started < 1.5
        assert [r.json()["incident"]["id"] for r in fast] == [i.id for i in raised]
        snapshot = fast[0].json()["incident"]["snapshot_path"]
        assert snapshot == store.get(raised[0].id).snapshot_path and snapshot.endswith(".jpg")
        assert store.count() == 2  # the sink stored both while the slow receiver hung

        receiver.wait_for(6, timeout=8)  # 3 tries of each of the 2 incidents, each timed out
        deadline = time.monotonic() + 5
        while len(letters := DeadLetters(store.engine).list()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sink.stop()
        notifier.stop(grace_s=0.5)
    assert sorted(letter.incident_id for letter in letters) == sorted(i.id for i in raised)
    for letter in letters:
        assert letter.channel == "slow" and letter.attempts == 3
        assert letter.last_error.startswith("no answer within 0.3 s")
        assert letter.payload["incident"]["id"] == letter.incident_id
