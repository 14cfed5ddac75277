"""The connection state machine, driven by a fake clock."""

import pytest

from citywatch.config import HealthSettings
from citywatch.video.state import CameraState, ConnectionStateMachine, StateChange

S = CameraState


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def changes() -> list[StateChange]:
    return []


@pytest.fixture
def machine(clock: FakeClock, changes: list[StateChange]) -> ConnectionStateMachine:
    health = HealthSettings(stalled_after_s=5, offline_after_s=30, backoff_initial_s=1, backoff_max_s=8)
    return ConnectionStateMachine("cam", health, on_change=changes.append, clock=clock)


def test_starts_stopped_and_streams_on_the_first_frame(machine, clock, changes) -> None:
    assert machine.state is S.STOPPED
    machine.connecting()
    clock.now += 2
    machine.frame_received()
    machine.frame_received()  # further frames change nothing
    assert changes == [
        StateChange("cam", S.STOPPED, S.CONNECTING, 1000.0, "starting"),
        StateChange("cam", S.CONNECTING, S.STREAMING, 1002.0, "first frame"),
    ]


def test_no_frame_stalls_then_goes_offline_counted_from_the_last_frame(machine, clock, changes) -> None:
    machine.connecting()
    machine.frame_received()
    clock.now += 4.9
    machine.tick()
    assert machine.state is S.STREAMING
    clock.now += 0.1
    machine.tick()
    assert machine.state is S.STALLED
    assert changes[-1].reason == "no frame for 5.0 s"
    clock.now += 24.9
    machine.tick()
    assert machine.state is S.STALLED
    clock.now += 0.1
    machine.tick()
    assert machine.state is S.OFFLINE
    reason = "down for 30.0 s since the last frame"
    assert changes[-1] == StateChange("cam", S.STALLED, S.OFFLINE, 1030.0, reason)


def test_failure_reconnects_and_an_offline_camera_stays_offline_while_retrying(machine, clock) -> None:
    machine.connecting()
    machine.frame_received()
    clock.now += 1
    machine.connection_failed("connection refused")
    assert machine.state is S.RECONNECTING
    clock.now += 29
    machine.connection_failed("connection refused")  # the retry fails: down 30 s since the last frame
    assert machine.state is S.OFFLINE
    machine.connection_failed("connection refused")
    machine.tick()
    assert machine.state is S.OFFLINE
    machine.frame_received()
    assert machine.state is S.STREAMING


def test_never_streaming_goes_offline_counted_from_start(machine, clock, changes) -> None:
    machine.connecting()
    clock.now += 29.9
    machine.tick()
    assert machine.state is S.CONNECTING  # still opening, e.g. a slow connect
    clock.now += 0.1
    machine.tick()
    assert [c.current for c in changes] == [S.CONNECTING, S.OFFLINE]
    assert changes[-1].reason == "down for 30.0 s since start"


def test_one_late_tick_reports_both_stalled_and_offline(machine, clock, changes) -> None:
    machine.connecting()
    machine.frame_received()
    clock.now += 60
    machine.tick()
    assert [c.current for c in changes][-2:] == [S.STALLED, S.OFFLINE]


def test_recovers_from_every_down_state(machine, clock, changes) -> None:
    machine.connecting()
    machine.frame_received()
    clock.now += 5
    machine.tick()
    machine.frame_received()
    assert changes[-1] == StateChange("cam", S.STALLED, S.STREAMING, 1005.0, "frames again")
    machine.connection_failed("stream ended")
    machine.frame_received()
    assert [c.current for c in changes][-2:] == [S.RECONNECTING, S.STREAMING]


def test_backoff_doubles_up_to_the_maximum_and_resets_on_a_frame(machine) -> None:
    machine.connecting()
    assert [machine.next_backoff() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    machine.frame_received()
    assert machine.next_backoff() == 1


def test_stopped_ignores_later_events_until_started_again(machine, clock, changes) -> None:
    machine.connecting()
    machine.frame_received()
    machine.stopped()
    machine.stopped()
    machine.frame_received()  # a frame decoded just after stop()
    machine.connection_failed("closed")
    clock.now += 100
    machine.tick()
    assert [c.current for c in changes] == [S.CONNECTING, S.STREAMING, S.STOPPED]
    machine.connecting()
    assert machine.state is S.CONNECTING


def test_events_that_do_not_apply_are_ignored(machine, clock, changes) -> None:
    machine.frame_received()  # not started
    machine.connection_failed("x")
    machine.tick()
    assert changes == []
    machine.connecting()
    machine.connecting()  # already running
    assert len(changes) == 1


def test_values_are_lower_case_strings() -> None:
    assert [s.value for s in CameraState] == [
        "connecting",
        "streaming",
        "stalled",
        "reconnecting",
        "offline",
        "stopped",
    ]
