"""Fixtures of the notifier tests; the services themselves are in notifier_services."""

import uuid
from collections.abc import Iterator

import pytest
from notifier_services import Receiver, serve_receiver, start_broker


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve_receiver()


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    yield from serve_receiver()


@pytest.fixture
def broker() -> Iterator[None]:
    """The local Mosquitto, up before the test and again after it, whatever the test did."""
    start_broker()
    try:
        yield
    finally:
        start_broker()


@pytest.fixture
def topic_prefix() -> str:
    """A prefix of its own per test, so retained messages of other runs never show up."""
    return f"citywatch-test-{uuid.uuid4().hex[:8]}"
