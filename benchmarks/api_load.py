"""Load benchmark of the incident store and API (not a test; results go in docs/BENCHMARKS.md).

For SQLite (a file) and PostgreSQL (a fresh database): incidents written per second through
`IncidentStore.add` (one transaction each, as the event sink writes them), then, with 100,000
incidents stored, the latency of GET /api/incidents over HTTP to a real uvicorn server in this
process (first page, filtered page, and a page 20 cursors deep).

    .venv/bin/python benchmarks/api_load.py [--pg ADMIN_URL] [--incidents 100000] [--requests 300]
"""

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from citywatch.api.app import create_app
from citywatch.config import parse_config
from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.domain.stored_incident import IncidentStatus
from citywatch.services.context import AppContext
from citywatch.storage.schema import IncidentRow
from citywatch.storage.store import IncidentStore

TYPES = [IncidentType.FIRE, IncidentType.FIGHT, IncidentType.FALL, IncidentType.NO_HELMET]
CAMERAS = [f"cam{i:02d}" for i in range(50)]
T0 = 1_700_000_000.0


def timed_adds(store: IncidentStore, count: int) -> float:
    """Incidents per second through store.add, one transaction each."""
    start = time.perf_counter()
    for i in range(count):
        store.add(Incident(random.choice(TYPES), random.choice(CAMERAS), T0 + i, 0.8), f"x/{i}.jpg")
    return count / (time.perf_counter() - start)


def bulk_fill(store: IncidentStore, total: int) -> None:
    """Top the table up to `total` rows quickly (one multi-row insert per 5,000)."""
    missing = total - store.count()
    created = datetime.now(UTC)
    for first in range(0, missing, 5000):
        rows = [
            {
                "id": uuid.uuid4().hex,
                "type": random.choice(TYPES),
                "subtype": None,
                "camera_id": random.choice(CAMERAS),
                "status": IncidentStatus.NEW,
                "confidence": random.random(),
                "started_at": datetime.fromtimestamp(T0 + 10 * (first + i), UTC),
                "boxes": [],
                "details": {},
                "created_at": created,
                "locked": False,
            }
            for i in range(min(5000, missing - first))
        ]
        with store.engine.begin() as connection:
            connection.execute(insert(IncidentRow), rows)


@contextmanager
def server(context: AppContext) -> Iterator[str]:
    config = uvicorn.Config(create_app(context), host="127.0.0.1", port=0, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:
        time.sleep(0.05)
    port = instance.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(10)


def latencies(
    client: httpx.Client, headers: dict[str, str], params: dict, requests: int
) -> tuple[float, float]:
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get("/api/incidents", params=params, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def deep_cursor(client: httpx.Client, headers: dict[str, str], pages: int) -> str:
    cursor = None
    for _ in range(pages):
        params = {"limit": 50} | ({"cursor": cursor} if cursor else {})
        cursor = client.get("/api/incidents", params=params, headers=headers).json()["next_cursor"]
    return cursor


def run(name: str, url: str, folder: Path, total: int, writes: int, requests: int) -> list[str]:
    store = IncidentStore(url)
    store.upgrade()
    per_second = timed_adds(store, writes)
    bulk_fill(store, total)
    config = parse_config({"storage": {"database_url": url, "evidence_dir": str(folder)}})
    context = AppContext.build(config, store, password_hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    user = context.users.add_user("bench", "viewer", "benchmark-password")
    token, _ = context.users.start_session(user)
    headers = {"Authorization": f"Bearer {token}"}
    rows = [
        f"| {name} | incidents written per second (`store.add`, one transaction each) | {per_second:,.0f} | |"
    ]
    with server(context) as base, httpx.Client(base_url=base, trust_env=False) as client:
        cases = {
            "GET /api/incidents (newest 50)": {"limit": 50},
            "GET /api/incidents?camera=cam07&type=fire (50)": {
                "limit": 50,
                "camera": "cam07",
                "type": "fire",
            },
            "GET /api/incidents, page 21 (cursor)": {"limit": 50, "cursor": deep_cursor(client, headers, 20)},
        }
        latencies(client, headers, {"limit": 50}, 20)  # warm up
        for label, params in cases.items():
            p50, p99 = latencies(client, headers, params, requests)
            rows.append(
                f"| {name} | {label}, {store.count():,} stored | p50 {p50:.1f} ms | p99 {p99:.1f} ms |"
            )
    return rows


@contextmanager
def pg_database(admin_url: str) -> Iterator[str]:
    url = make_url(admin_url)
    name = f"citywatch_bench_{uuid.uuid4().hex[:8]}"
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "CITYWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="PostgreSQL admin URL (may CREATE DATABASE)",
    )
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=2_000, help="incidents timed through store.add")
    parser.add_argument("--requests", type=int, default=300, help="requests per latency case")
    args = parser.parse_args()
    random.seed(1)
    rows = ["| database | measure | rate or p50 | p99 |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as folder:
        rows += run(
            "SQLite", f"sqlite:///{folder}/bench.db", Path(folder), args.incidents, args.writes, args.requests
        )
    with pg_database(args.pg) as url, tempfile.TemporaryDirectory() as folder:
        rows += run("PostgreSQL", url, Path(folder), args.incidents, args.writes, args.requests)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
