"""Fixtures of the service tests: a store on a SQLite file with a way to add incidents, and the API
tests' app over a real database (tests/api/api_support.py) for what both its routes and the
dashboard call."""

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "api"))

from api_support import DEFAULT_PG_ADMIN_URL, Api, database, running_api

from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.storage.store import IncidentStore


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A fresh app and database for one test, on SQLite and on the local PostgreSQL."""
    pg_admin_url = os.environ.get("CITYWATCH_TEST_PG_URL", DEFAULT_PG_ADMIN_URL)
    with database(request.param, tmp_path, pg_admin_url) as url, running_api(url, tmp_path) as api:
        yield api


@pytest.fixture
def store(tmp_path: Path) -> IncidentStore:
    store = IncidentStore(f"sqlite:///{tmp_path / 'cw.db'}")
    store.upgrade()
    return store


@pytest.fixture
def add_incident(store: IncidentStore) -> Callable[[IncidentType, str, float], str]:
    """add_incident(type, camera, started_at): the id of a new incident in `store`."""

    def add(type_: IncidentType, camera: str, started_at: float) -> str:
        incident = Incident(type_, camera, started_at, 0.8)
        assert store.add(incident, None)
        return incident.id

    return add
