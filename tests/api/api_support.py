"""Helpers of the API tests: the real app (FastAPI TestClient, lifespan included) over a real
SQLite file or a fresh PostgreSQL database, users of every role logged in, real evidence files.

PostgreSQL is required, as in tests/storage: set CITYWATCH_TEST_PG_URL to an admin URL that may
CREATE DATABASE when it is not the default local server.
"""

import itertools
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from citywatch.api.app import create_app
from citywatch.config import CitywatchConfig, parse_config
from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.services.context import AppContext
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CLIP = "fire_smoke/videos/furg_house6.mp4"
PASSWORD = "correct horse battery staple"
LINK_SECRET = "shared-link-secret-for-tests"
"""notifications.evidence_link_secret of the test apps: signs /api/shared/snapshots links."""
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""argon2 with test-sized costs: the defaults take half a second a hash on a busy CI machine."""
T0 = 1_700_000_000.0
_ids = itertools.count(1)


@contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    """A new, uniquely named PostgreSQL database, dropped afterwards."""
    admin_url_ = make_url(admin_url)
    conninfo = admin_url_.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"citywatch_api_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for these tests and is not reachable: {exc}", pytrace=False)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url_.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(kind: str, folder: Path, pg_admin_url: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'citywatch.db'}"
    else:
        with fresh_pg_database(pg_admin_url) as url:
            yield url


@dataclass
class Api:
    client: TestClient
    context: AppContext
    store: IncidentStore
    evidence_dir: Path
    tokens: dict[Role, str]

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def add_incident(
        self,
        camera_id: str = "cam01",
        type: IncidentType = IncidentType.FIRE,
        started_at: float = T0,
        confidence: float = 0.8,
        with_evidence: bool = True,
    ) -> str:
        """A stored incident (with a real JPEG snapshot and MP4 clip on disk); returns its id."""
        incident = Incident(type, camera_id, started_at, confidence, details={"n": next(_ids)})
        snapshot = clip = None
        if with_evidence:
            folder = self.evidence_dir / camera_id / "2023-11-14"
            folder.mkdir(parents=True, exist_ok=True)
            image = np.full((120, 160, 3), (30, 60, 200), np.uint8)
            cv2.imwrite(str(folder / f"{incident.id}.jpg"), image)
            shutil.copyfile(datasets_dir() / CLIP, folder / f"{incident.id}.mp4")
            snapshot, clip = (f"{camera_id}/2023-11-14/{incident.id}{s}" for s in (".jpg", ".mp4"))
        assert self.store.add(incident, snapshot, clip)
        return incident.id


def make_config(db_url: str, evidence_dir: Path, **api: object) -> CitywatchConfig:
    return parse_config(
        {
            "cameras": [
                {
                    "id": "cam01",
                    "name": "Ratchadamnoen",
                    "url": "rtsp://user:secret@10.0.0.1/sub",
                    "location": {"lat": 13.75, "lon": 100.5},
                },
                {"id": "cam02", "name": "ถนนสีลม", "url": "rtsp://10.0.0.2/sub"},
            ],
            "storage": {"database_url": db_url, "evidence_dir": str(evidence_dir)},
            "api": api,
            "notifications": {"evidence_link_secret": LINK_SECRET},
        }
    )


@contextmanager
def running_api(db_url: str, folder: Path) -> Iterator[Api]:
    """The app over a migrated database, with one logged-in user per role ('viewer1', ...)."""
    evidence_dir = folder / "evidence"
    store = IncidentStore(db_url, backoff_s=0.01, retries=2)
    store.upgrade()
    context = AppContext.build(make_config(db_url, evidence_dir), store, password_hasher=FAST_HASHER)
    existing = {user.name: user for user in context.users.users()}  # a restart over the same database
    tokens = {}
    for role in Role:
        name = f"{role.value}1"
        user = existing.get(name) or context.users.add_user(name, role, PASSWORD)
        tokens[role], _ = context.users.start_session(user)
    with TestClient(create_app(context), headers={"Origin": "http://testserver"}) as client:  # as a browser
        yield Api(client, context, store, evidence_dir, tokens)


def fuzz_operations(app: Any, context: AppContext, excluded: set[str], examples: int = 15) -> int:
    """schemathesis over every operation of `app`'s OpenAPI schema (but `excluded` paths), as an
    admin, failing at the first request that gets a server error (5xx); returns how many operations
    were fuzzed. The token is fresh for each request: a generated DELETE /api/tokens/{id} may revoke one."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzed = 0
    for operation in operations:
        if operation.path in excluded:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def no_server_error(case: schemathesis.Case) -> None:
            _, secret = context.users.create_token(f"fuzz{next(_FUZZ_TOKENS)}", Role.ADMIN, "test")
            response = case.call(headers={"Authorization": f"Bearer {secret}"})
            case.validate_response(response, checks=[not_a_server_error])

        no_server_error()
        fuzzed += 1
    return fuzzed


_FUZZ_TOKENS = itertools.count(1)
