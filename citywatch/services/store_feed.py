"""Live updates for an API without a pipeline in its process (`serve --no-pipeline`, the API on
another machine than the cameras): a thread that looks at the store every `interval_s` for
incidents created since its last look and for changed camera states, and publishes them as the
pipeline's Notifier would (same messages, see citywatch.notifiers.live).

Rows are found by `created_at`, which the writing process sets just before its commit, so a row
committed late (a retried write, a slow transaction) can carry an earlier time than rows already
seen: every look reaches `overlap_s` back from the newest row seen and skips the ids already
published. Incidents stored before the feed started are not published.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from citywatch.notifiers.payloads import incident_payload, stored_status_payload
from citywatch.storage.store import CameraStatus, IncidentStore, StoreError

log = logging.getLogger(__name__)

Publish = Callable[[dict[str, Any]], None]


class StoreFeed:
    def __init__(
        self, store: IncidentStore, publish: Publish, interval_s: float = 1.0, overlap_s: float = 30.0
    ) -> None:
        self._store = store
        self._publish = publish
        self._interval_s = interval_s
        self._overlap = timedelta(seconds=overlap_s)
        self._since: datetime | None = None
        self._seen: dict[str, datetime] = {}
        self._states: dict[str, CameraStatus] = {}
        self._primed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start polling; a no-op when it runs already."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="store-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None

    def poll(self) -> None:
        """One look at the store (the thread calls it; tests too). Raises StoreError."""
        if not self._primed:
            self._prime()
        for incident in self._store.created_since(self._since):
            if incident.id in self._seen:
                continue
            self._seen[incident.id] = incident.created_at
            self._publish({"event": "incident", "data": incident_payload(incident)})
        self._advance()
        self._publish_states()

    def _prime(self) -> None:
        """Start after the newest stored row: only incidents created from now on are news."""
        latest = self._store.latest_created_at()
        if latest is not None:
            self._since = latest - self._overlap
            self._seen = {i.id: i.created_at for i in self._store.created_since(self._since)}
        self._primed = True

    def _advance(self) -> None:
        if not self._seen:
            return
        since = max(self._seen.values()) - self._overlap
        self._since = since if self._since is None else max(self._since, since)
        self._seen = {id_: at for id_, at in self._seen.items() if at >= self._since}

    def _publish_states(self) -> None:
        for camera_id, status in self._store.camera_states().items():
            known = self._states.get(camera_id)
            if known == status:
                continue
            self._states[camera_id] = status
            previous = known.state if known is not None else None
            self._publish({"event": "camera_state", "data": stored_status_payload(status, previous)})

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except StoreError as exc:  # the database is down: try again at the next look
                log.warning("live feed: cannot read the store: %s", exc)
            except Exception:
                log.exception("live feed: a look at the store failed")
            self._stop.wait(self._interval_s)
