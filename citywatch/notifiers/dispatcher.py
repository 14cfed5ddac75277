"""The Notifier: takes stored incidents and camera state changes from pipeline threads and fans
them out to the live hub and to the configured channels (routing rules and quiet hours applied).

`on_incident` (called on the event sink's thread) and `on_state_change` (a camera's decode
thread) only put the value on a queue; the Notifier's own thread looks up the snapshot, routes,
and hands messages to each channel's DeliveryWorker. Nothing here can block the pipeline.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from citywatch.config import NotificationSettings
from citywatch.domain.incident import Incident
from citywatch.domain.stored_incident import StoredIncident, utc
from citywatch.notifiers.dead_letters import DeadLetters
from citywatch.notifiers.delivery import Channel, DeadLetterSink, DeliveryWorker, Message
from citywatch.notifiers.line import LineChannel
from citywatch.notifiers.live import LiveHub
from citywatch.notifiers.mqtt import MqttChannel
from citywatch.notifiers.payloads import camera_status_payload, incident_payload
from citywatch.notifiers.routing import Router
from citywatch.notifiers.webhook import WebhookChannel
from citywatch.storage.store import IncidentStore, StoreError
from citywatch.video.state import StateChange

log = logging.getLogger(__name__)

SnapshotLookup = Callable[[str], str | None]
"""incident id -> its snapshot path as stored (the sink keeps it out of the Incident it passes on)."""

_STOP = object()


class Notifier:
    def __init__(
        self,
        settings: NotificationSettings,
        channels: Sequence[Channel],
        hub: LiveHub | None = None,
        snapshot_of: SnapshotLookup | None = None,
        dead_letter: DeadLetterSink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hub = hub
        self.workers = {c.name: DeliveryWorker(c, dead_letter or _log_only) for c in channels}
        self._router = Router(settings, {c.name: c.quiet_hours for c in channels})
        self._snapshot_of = snapshot_of
        self._clock = clock
        self._inbox: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None

    def on_incident(self, incident: Incident) -> None:
        """EventSink listener: returns at once."""
        self._inbox.put(incident)

    def on_state_change(self, change: StateChange) -> None:
        """Camera state listener: returns at once."""
        self._inbox.put(change)

    def start(self) -> None:
        for worker in self.workers.values():
            worker.channel.start()
            worker.start()
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
        self._thread.start()

    def dead_threads(self) -> list[str]:
        """Names of its threads that died while they should run (for the Supervisor's watchdog)."""
        dead = [] if self._thread is None or self._thread.is_alive() else ["notifier"]
        if self._thread is not None:
            dead += [f"notify-{name}" for name, worker in self.workers.items() if not worker.thread_alive]
        return dead

    def stop(self, grace_s: float = 5) -> None:
        """Route what is queued, give every channel `grace_s` to deliver, dead-letter the rest."""
        if self._thread is not None:
            self._inbox.put(_STOP)
            self._thread.join()
            self._thread = None
        stoppers = [threading.Thread(target=w.stop, args=(grace_s,)) for w in self.workers.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()

    def _run(self) -> None:
        while (item := self._inbox.get()) is not _STOP:
            try:
                if isinstance(item, StateChange):
                    self._state_change(item)
                else:
                    self._incident(item)  # type: ignore[arg-type]
            except Exception:
                log.exception("notifying %r failed", item)

    def _incident(self, incident: Incident) -> None:
        now = self._clock()
        stored = StoredIncident.raised(incident, utc(now), self._snapshot(incident.id))
        if self.hub is not None:
            self.hub.publish({"event": "incident", "data": incident_payload(stored)})
        for name in self._router.channels_for(stored.type, stored.camera_id, now):
            worker = self.workers[name]
            worker.put(worker.channel.incident_messages(stored))

    def _state_change(self, change: StateChange) -> None:
        if self.hub is not None:
            self.hub.publish({"event": "camera_state", "data": camera_status_payload(change)})
        for worker in self.workers.values():
            worker.put(worker.channel.status_messages(change))

    def _snapshot(self, incident_id: str) -> str | None:
        if self._snapshot_of is None:
            return None
        try:
            return self._snapshot_of(incident_id)
        except StoreError as exc:
            log.warning("incident %s: snapshot path not found (%s); alerting without it", incident_id, exc)
            return None


def _log_only(message: Message, attempts: int, error: str) -> None:
    log.error("dead letter (no database): %s %s %s", message.channel, message.target, message.body)


def channels_from(settings: NotificationSettings) -> list[Channel]:
    channels: list[Channel] = []
    if settings.mqtt is not None:
        channels.append(MqttChannel(settings.mqtt))
    if settings.line is not None:
        channels.append(LineChannel(settings.line, settings))
    channels.extend(WebhookChannel(w) for w in settings.webhooks)
    return channels


def build_notifier(settings: NotificationSettings, store: IncidentStore, hub: LiveHub | None) -> Notifier:
    """The Notifier of a running pipeline: snapshot paths and dead letters in the store's database."""

    def snapshot_of(incident_id: str) -> str | None:
        stored = store.get(incident_id)
        return stored.snapshot_path if stored is not None else None

    return Notifier(settings, channels_from(settings), hub, snapshot_of, DeadLetters(store.engine).record)
