"""A camera on a real RTSP server goes down and comes back by itself; a file camera beside it never
notices."""

import itertools

from citywatch.video.state import CameraState

S = CameraState


def test_rtsp_camera_goes_offline_and_recovers_while_another_keeps_streaming(
    rtsp_server, sources, bystander, wait_until
) -> None:
    a, a_log = sources.start("a", rtsp_server.url)

    wait_until(lambda: a.state is S.STREAMING and a.stats.frames_decoded >= 10, 10, "camera a streaming")
    last_index_before = a.take_latest().index
    last_frame_before = a.stats.last_frame_at

    rtsp_server.kill()
    wait_until(lambda: a.state is S.OFFLINE, 8, "camera a offline")
    offline = a_log.changes[-1]
    assert offline.at - last_frame_before >= sources.health.offline_after_s - 0.1
    assert rtsp_server.url in a.stats.last_error
    assert bystander.source.state is S.STREAMING

    rtsp_server.start()
    wait_until(lambda: a.state is S.STREAMING, 10, "camera a streaming again")
    # The slot is filled before the state changes, so it holds a frame from after the outage.
    assert a.take_latest().index > last_index_before  # indices keep counting across reconnects
    assert a.stats.reconnects >= 1

    states = a_log.states
    assert states[:2] == [S.CONNECTING, S.STREAMING]
    assert states[-2:] == [S.OFFLINE, S.STREAMING]
    assert set(states[2:-2]) <= {S.STALLED, S.RECONNECTING} and states[2:-2], states
    changes = a_log.changes
    assert all(c.camera_id == "a" for c in changes)
    assert all(x.current is y.previous for x, y in itertools.pairwise(changes))
    assert [c.at for c in changes] == sorted(c.at for c in changes)

    # The file camera never paused: no gap in its frames anywhere through a's outage.
    bystander.assert_unaffected(min_seconds=5)


def test_hung_rtsp_server_shows_stalled_then_offline_then_recovers(rtsp_server, sources, wait_until) -> None:
    """A server that stops answering (SIGSTOP) leaves reads hanging, not failing: the health monitor
    must still report STALLED, the read timeout must drop the connection, and OFFLINE must follow."""
    a, a_log = sources.start("a", rtsp_server.url)
    wait_until(lambda: a.state is S.STREAMING, 10, "camera a streaming")

    rtsp_server.pause()
    try:
        wait_until(lambda: a.state is S.OFFLINE, 8, "camera a offline")
        assert "timed out" in a.stats.last_error
    finally:
        rtsp_server.resume()
    wait_until(lambda: a.state is S.STREAMING, 10, "camera a streaming again")

    assert a_log.states == [S.CONNECTING, S.STREAMING, S.STALLED, S.RECONNECTING, S.OFFLINE, S.STREAMING]
    stalled = a_log.changes[2]
    assert stalled.reason.startswith("no frame for")
