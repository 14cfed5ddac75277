"""Fixtures of the API tests (helpers in api_support.py): an app per test, or one per module."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import DEFAULT_PG_ADMIN_URL, Api, database, running_api


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    return os.environ.get("CITYWATCH_TEST_PG_URL", DEFAULT_PG_ADMIN_URL)


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path, pg_admin_url: str) -> Iterator[Api]:
    """A fresh app and database for one test."""
    with database(request.param, tmp_path, pg_admin_url) as url, running_api(url, tmp_path) as api:
        yield api


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_admin_url: str
) -> Iterator[Api]:
    """One app and database for all tests of a module (tests that only add what they use)."""
    folder = tmp_path_factory.mktemp("api")
    with database(request.param, folder, pg_admin_url) as url, running_api(url, folder) as api:
        yield api
