"""Fixtures of the dashboard tests: one real server per module, browsers made on demand."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_support import Server, free_port, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("dashboard"), free_port())
    yield running
    running.stop()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests save their screenshots (look at them: overlaps, cut-off text, Thai glyphs)."""
    return tmp_path_factory.mktemp("screenshots")
