"""Fixtures of the security tests: the API tests' app over a real database (tests/api/api_support.py)."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "api"))

from api_support import DEFAULT_PG_ADMIN_URL, Api, database, running_api


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A fresh app and database for one test, on SQLite and on the local PostgreSQL."""
    pg_admin_url = os.environ.get("CITYWATCH_TEST_PG_URL", DEFAULT_PG_ADMIN_URL)
    with database(request.param, tmp_path, pg_admin_url) as url, running_api(url, tmp_path) as api:
        yield api
