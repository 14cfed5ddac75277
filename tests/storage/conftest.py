"""Fixtures of the incident tests: real databases (a SQLite file, a fresh PostgreSQL database) and
real frames from the shared datasets.

PostgreSQL is required, not optional: set CITYWATCH_TEST_PG_URL to an admin URL (one that may
CREATE DATABASE) when it is not the default local trust-auth server.
"""

import os
import uuid
from collections.abc import Iterator

import av
import numpy as np
import psycopg
import pytest
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import make_url

from citywatch.paths import datasets_dir
from citywatch.storage.store import IncidentStore
from citywatch.video.frame import Frame

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
VIDEO = "fire_smoke/videos/furg_house6.mp4"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A new, uniquely named PostgreSQL database for this test session, dropped at the end."""
    admin_url = make_url(os.environ.get("CITYWATCH_TEST_PG_URL", DEFAULT_PG_ADMIN_URL))
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"citywatch_test_{uuid.uuid4().hex[:12]}"
    admin: psycopg.Connection | None = None
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip()
    if admin is None:
        pytest.fail(
            f"PostgreSQL is required for these tests and is not reachable at "
            f"{admin_url.render_as_string(hide_password=True)}: {reason}\n"
            "Start it, or set CITYWATCH_TEST_PG_URL to an admin URL that may CREATE DATABASE.",
            pytrace=False,
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        # A new connection: a test may have restarted the server meanwhile (test_sink_database_restart).
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of each kind: a new SQLite file, or the session's PostgreSQL database
    emptied again after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'citywatch.db'}"
        return
    url = request.getfixturevalue("pg_database_url")
    yield url
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[IncidentStore]:
    store = IncidentStore(db_url, backoff_s=0.01)
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def video_frames() -> list[np.ndarray]:
    """The first 20 frames (BGR, 426x240) of a real fire video."""
    images = []
    with av.open(str(datasets_dir() / VIDEO)) as container:
        for frame in container.decode(video=0):
            images.append(frame.to_ndarray(format="bgr24"))
            if len(images) == 20:
                break
    return images


@pytest.fixture
def fire_image(video_frames: list[np.ndarray]) -> np.ndarray:
    return video_frames[0].copy()


@pytest.fixture
def camera_frames(video_frames: list[np.ndarray]) -> list[Frame]:
    return [Frame("cam01", i, 1_700_000_000 + i / 10, image) for i, image in enumerate(video_frames)]
