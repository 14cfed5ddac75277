"""Fixtures of the security tests: the API tests' app over a real database (tests/api/api_support.py)
and the dashboard tests' real `citywatch serve` (tests/ui/dashboard_support.py)."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path[:0] = [str(Path(__file__).parent.parent / "api"), str(Path(__file__).parent.parent / "ui")]

from api_support import DEFAULT_PG_ADMIN_URL, Api, database, running_api  # noqa: E402
from dashboard_support import Server, free_port, start_server  # noqa: E402


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A fresh app and database for one test, on SQLite and on the local PostgreSQL."""
    pg_admin_url = os.environ.get("CITYWATCH_TEST_PG_URL", DEFAULT_PG_ADMIN_URL)
    with database(request.param, tmp_path, pg_admin_url) as url, running_api(url, tmp_path) as api:
        yield api


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `citywatch serve --no-pipeline` (a subprocess) for the tests of one module."""
    running = start_server(tmp_path_factory.mktemp("dashboard"), free_port())
    yield running
    running.stop()
