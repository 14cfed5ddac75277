"""PostgreSQL restarted while the event sink stores a steady stream of incidents: every incident
ends up stored exactly once, and its listeners (the alerts) hear of it exactly once.

This restarts the real local server (`pg_ctlcluster ... restart`, about a second); the server is
started again at the end whatever happened.
"""

import logging
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from citywatch.config import EvidenceSettings
from citywatch.domain.incident import Incident, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.storage.evidence import EvidenceWriter
from citywatch.storage.sink import EventSink
from citywatch.storage.store import IncidentStore

SUBMIT_EVERY_S = 0.02


def _cluster() -> list[str]:
    versions = (
        sorted(p.name for p in Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
    )
    if not versions:
        pytest.skip("no local PostgreSQL cluster to restart (/etc/postgresql is empty)")
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def _wait_until_up(url: str, timeout: float = 30) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(conninfo, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_postgresql_restart_loses_and_duplicates_nothing(
    pg_database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cluster = _cluster()
    store = IncidentStore(pg_database_url)  # the pipeline's retry settings
    store.upgrade()
    heard: Counter[str] = Counter()
    sink = EventSink(store, EvidenceWriter(tmp_path, EvidenceSettings()), EvidenceSettings(), lambda *_: [])
    sink.subscribe(lambda incident: heard.update([incident.id]))
    submitted: list[str] = []
    stop = threading.Event()

    def produce() -> None:
        n = 0
        while not stop.is_set():
            incident = Incident(IncidentType.FIRE, f"cam{n % 4}", time.time(), 0.9, frame_index=n)
            sink.submit(IncidentRaised(incident))
            submitted.append(incident.id)
            n += 1
            time.sleep(SUBMIT_EVERY_S)

    producer = threading.Thread(target=produce)
    caplog.set_level(logging.WARNING, logger="citywatch.storage.store")
    sink.start()
    producer.start()
    try:
        time.sleep(0.5)
        before = len(submitted)
        subprocess.run([*cluster, "restart"], check=True, capture_output=True, timeout=60)
        _wait_until_up(pg_database_url)
        time.sleep(1.0)  # keep submitting after the server is back
    finally:
        stop.set()
        producer.join()
        sink.stop(timeout=60)
        subprocess.run([*cluster, "start"], check=False, capture_output=True, timeout=60)  # no-op when up
        _wait_until_up(pg_database_url)

    stored = {i.id for i in store.list(limit=len(submitted) + 10)}
    store.dispose()
    assert len(submitted) > before > 0
    assert any("retrying" in r.getMessage() for r in caplog.records), "the restart never reached the store"
    assert store.count() == len(submitted)
    assert stored == set(submitted)
    assert sink.stats.outbox == 0
    assert set(heard) == set(submitted)
    assert [id for id, times in heard.items() if times > 1] == []
