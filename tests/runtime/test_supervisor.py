"""The whole pipeline on real clips: cameras in, incidents with evidence out."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import yaml
from runtime_support import FIRE_CLIP, PEOPLE_CLIP, STREET_CLIP, camera, make_config

from citywatch.config import CitywatchConfig, parse_config
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.perception.model_pack import ModelPackError
from citywatch.runtime.supervisor import Supervisor
from citywatch.storage.store import IncidentStore
from citywatch.video.state import CameraState


def run(config: CitywatchConfig, seconds: float) -> Supervisor:
    supervisor = Supervisor(config)
    supervisor.run(seconds)
    return supervisor


def stored(config: CitywatchConfig):
    store = IncidentStore(config.storage.database_url)
    try:
        return store.list(limit=1000)
    finally:
        store.dispose()


def assert_playable_clip(path: Path, min_seconds: float) -> None:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = list(container.decode(stream))
    assert len(frames) >= 10
    assert float(frames[-1].time - frames[0].time) >= min_seconds


@pytest.mark.slow
def test_fire_clip_stores_one_fire_incident_with_snapshot_and_clip(tmp_path: Path) -> None:
    config = make_config(tmp_path, [camera("fire-cam", FIRE_CLIP), camera("street-cam", PEOPLE_CLIP)])
    supervisor = run(config, 9)

    incidents = stored(config)
    fire = [i for i in incidents if i.type is IncidentType.FIRE]
    assert [i.camera_id for i in fire] == ["fire-cam"], "one incident per camera episode, none on the street"
    incident = fire[0]
    assert incident.subtype in {"fire", "smoke"} and incident.confidence >= 0.4
    assert incident.boxes and all(b.label in {"fire", "smoke"} for b in incident.boxes)
    assert incident.frame_index is not None and incident.evidence_error is None

    snapshot = config.storage.evidence_dir / incident.snapshot_path
    image = cv2.imread(str(snapshot))
    assert image is not None and image.shape[1] == 426
    assert incident.clip_path is not None
    assert_playable_clip(config.storage.evidence_dir / incident.clip_path, min_seconds=2.5)

    stats = supervisor.stats()
    assert stats.cameras["fire-cam"].counters.frames_analysed >= 10
    assert stats.sink.latencies_s and max(stats.sink.latencies_s) < 5


@pytest.mark.slow
def test_stats_and_the_latest_frame_say_what_the_cameras_did(tmp_path: Path) -> None:
    """Before any frame: no picture and every counter at zero; after 5 s of the fire clip: its
    newest picture, the frames each stage handled, the scheduler's passes and the stored incident.
    A snapshot stays as it was taken; a camera the pipeline does not run has no picture here."""
    cameras = [camera("fire-cam", FIRE_CLIP), camera("off-cam", FIRE_CLIP, enabled=False)]
    config = make_config(tmp_path, cameras)
    supervisor = Supervisor(config)
    assert supervisor.latest_frame("fire-cam") is None
    with pytest.raises(KeyError):
        supervisor.latest_frame("off-cam")
    before = supervisor.stats()
    assert list(before.cameras) == ["fire-cam"]
    fresh = before.cameras["fire-cam"]
    assert fresh.state is CameraState.STOPPED and fresh.source.frames_decoded == 0
    assert fresh.counters.frames_offered == fresh.counters.frames_analysed == 0
    assert {t: h.failures for t, h in fresh.analyzers.items()} == {IncidentType.FIRE: 0}
    assert before.scheduler.jobs_submitted == 0 and before.scheduler.detector_calls == {"fire_smoke": 0}
    assert before.sink.incidents_stored == 0

    supervisor.run(5)

    image = supervisor.latest_frame("fire-cam")
    assert isinstance(image, np.ndarray) and image.shape == (240, 426, 3)  # the clip's own size
    assert image.any(), "a decoded picture, not an empty buffer"
    after = supervisor.stats()
    ran = after.cameras["fire-cam"]
    assert ran.state is CameraState.STOPPED  # run() stopped it
    assert ran.source.frames_decoded >= ran.counters.frames_offered >= ran.counters.frames_sampled
    assert ran.counters.frames_sampled >= ran.counters.frames_submitted >= ran.counters.frames_analysed >= 4
    assert ran.counters.detections > 0 and ran.analyzers[IncidentType.FIRE].failures == 0
    assert after.scheduler.jobs_done >= ran.counters.frames_analysed
    assert after.scheduler.detector_calls["fire_smoke"] > 0 and after.scheduler.queue_depth == 0
    assert after.sink.incidents_stored == len(stored(config)) == 1 and after.sink.outbox == 0
    assert fresh.counters.frames_analysed == 0 and before.sink.incidents_stored == 0  # still as taken


@pytest.mark.slow
def test_street_only_config_stores_no_incident(tmp_path: Path) -> None:
    config = make_config(tmp_path, [camera("street-a", STREET_CLIP), camera("street-b", PEOPLE_CLIP)])
    supervisor = run(config, 12)
    assert stored(config) == []
    analysed = sum(c.counters.frames_analysed for c in supervisor.stats().cameras.values())
    assert analysed >= 10, "the detector really looked at the streets"


@pytest.mark.slow
def test_clean_shutdown_before_post_roll_keeps_incident_and_clip(tmp_path: Path) -> None:
    config = make_config(
        tmp_path, [camera("fire-cam", FIRE_CLIP)], evidence={"pre_roll_s": 2, "post_roll_s": 30}
    )
    run(config, 5)  # the post-roll (30 s) is far from over when it stops
    (incident,) = stored(config)
    assert incident.clip_path is not None, "the open clip was finished at shutdown"
    assert_playable_clip(config.storage.evidence_dir / incident.clip_path, min_seconds=1)


@pytest.mark.slow
def test_broken_cameras_do_not_stop_the_others(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    config = make_config(
        tmp_path,
        [
            camera("missing", tmp_path / "no-such-video.mp4"),
            camera("corrupt", corrupt),
            camera("refused", "rtsp://127.0.0.1:9/none"),
            camera("fire-cam", FIRE_CLIP),
        ],
    )
    supervisor = run(config, 8)
    cameras = supervisor.stats().cameras
    by_camera = {}
    for incident in stored(config):
        by_camera.setdefault(incident.camera_id, set()).add(incident.type)
    assert by_camera.get("fire-cam") == {IncidentType.FIRE}
    for broken in ("missing", "corrupt", "refused"):
        assert by_camera.get(broken) == {IncidentType.CAMERA_OFFLINE}, broken
        assert cameras[broken].source.last_error
    assert "no-such-video.mp4" in (cameras["missing"].source.last_error or "")


def test_model_with_wrong_hash_is_refused_and_stored_incidents_survive(tmp_path: Path) -> None:
    config = make_config(tmp_path, [camera("fire-cam", FIRE_CLIP)])
    store = IncidentStore(config.storage.database_url)
    store.upgrade()
    from citywatch.domain.incident import Incident

    store.add(
        Incident(IncidentType.FIRE, "fire-cam", 1_700_000_000.0, 0.9, subtype="fire"), snapshot_path=None
    )
    store.dispose()

    pack = tmp_path / "pack"
    pack.mkdir()
    real = datasets_dir().parent / "models"
    (pack / "manifest.json").write_text((real / "manifest.json").read_text())
    for model in real.glob("*.onnx"):
        (pack / model.name).symlink_to(model)
    (pack / "fire-smoke-yolov8-416.onnx").unlink()
    (pack / "fire-smoke-yolov8-416.onnx").write_bytes(b"not the model")
    broken = config.model_copy(update={"models": config.models.model_copy(update={"path": pack})})
    with pytest.raises(ModelPackError, match=r"fire-smoke-yolov8-416\.onnx.*sha256|sha256.*fire-smoke"):
        Supervisor(broken)
    assert len(stored(config)) == 1


@pytest.mark.slow
def test_rtsp_camera_outage_is_an_offline_incident_closed_on_recovery(
    tmp_path: Path, rtsp_server, wait_until
) -> None:
    config = make_config(
        tmp_path, [camera("rtsp-cam", rtsp_server.url, loop=False), camera("fire-cam", FIRE_CLIP)]
    )
    supervisor = Supervisor(config)
    changes = []
    supervisor.state_listeners.append(changes.append)

    def rtsp_is(state: CameraState) -> bool:
        return supervisor.stats().cameras["rtsp-cam"].state is state

    supervisor.start()
    try:
        wait_until(lambda: rtsp_is(CameraState.STREAMING), 10, "the RTSP camera streaming")
        rtsp_server.kill()
        wait_until(lambda: rtsp_is(CameraState.OFFLINE), 15, "the RTSP camera offline")
        wait_until(lambda: _offline_rows(config, open_only=True), 5, "an open camera_offline incident")
        fire_frames_during_outage = supervisor.stats().cameras["fire-cam"].source.frames_decoded
        rtsp_server.start()
        wait_until(lambda: rtsp_is(CameraState.STREAMING), 20, "the RTSP camera back")
        wait_until(lambda: not _offline_rows(config, open_only=True), 5, "the offline incident closed")
    finally:
        supervisor.stop()

    (offline,) = _offline_rows(config, open_only=False)
    assert offline.camera_id == "rtsp-cam" and offline.ended_at is not None
    assert offline.snapshot_path, "the last frame before the outage is the snapshot"
    rtsp_states = [c.current for c in changes if c.camera_id == "rtsp-cam"]
    assert CameraState.STALLED in rtsp_states or CameraState.RECONNECTING in rtsp_states
    assert rtsp_states.index(CameraState.OFFLINE) < len(rtsp_states) - 1
    assert rtsp_states[-1] is CameraState.STOPPED and rtsp_states[-2] is CameraState.STREAMING
    fire_states = [c.current for c in changes if c.camera_id == "fire-cam"]
    assert fire_states == [CameraState.CONNECTING, CameraState.STREAMING, CameraState.STOPPED]
    assert supervisor.stats().cameras["fire-cam"].source.frames_decoded > fire_frames_during_outage


def _offline_rows(config: CitywatchConfig, open_only: bool):
    store = IncidentStore(config.storage.database_url)
    try:
        return store.list(type=IncidentType.CAMERA_OFFLINE, open_only=open_only)
    finally:
        store.dispose()


@pytest.mark.slow
def test_an_analyzer_that_keeps_failing_on_one_camera_costs_only_that(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fire analyzer raises on every frame of one camera (a bug it hits there): the other camera,
    on the same video, still raises its fire incident; the failures are counted and reported."""
    from citywatch.analytics import fire

    original = fire.FireAnalyzer.update

    def broken_on_one_camera(self, analysis):
        if analysis.frame.camera_id == "bad-cam":
            raise ValueError("The truth value of an array with more than one element is ambiguous")
        return original(self, analysis)

    monkeypatch.setattr(fire.FireAnalyzer, "update", broken_on_one_camera)
    config = make_config(tmp_path, [camera("good-cam", FIRE_CLIP), camera("bad-cam", FIRE_CLIP)])
    supervisor = run(config, 9)
    assert [i.camera_id for i in stored(config) if i.type is IncidentType.FIRE] == ["good-cam"]
    cameras = supervisor.stats().cameras
    bad = cameras["bad-cam"].analyzers[IncidentType.FIRE]
    assert bad.failures >= 5 and "ValueError" in (bad.last_error or "")
    assert cameras["good-cam"].analyzers[IncidentType.FIRE].failures == 0
    assert list(supervisor.failing_analyzers(time.time())) == ["bad-cam/fire"]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the planted death
def test_a_pipeline_thread_that_dies_stops_the_pipeline_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event sink's thread ends (as an uncaught error would end it): the watchdog sees it within
    about a second and stops the pipeline, saying which thread, instead of running half dead."""
    from citywatch.storage.sink import EventSink

    def dies_after_a_second(self) -> None:
        time.sleep(1.0)
        raise RuntimeError("a bug in the sink")

    monkeypatch.setattr(EventSink, "_run", dies_after_a_second)
    config = make_config(tmp_path, [camera("fire-cam", FIRE_CLIP)])
    supervisor = Supervisor(config)
    reasons: list[str] = []
    supervisor.on_fatal.append(reasons.append)
    started = time.monotonic()
    supervisor.run(30)  # returns once the watchdog stopped it
    assert time.monotonic() - started < 10
    assert supervisor.fatal is not None and "event-sink" in supervisor.fatal and reasons == [supervisor.fatal]


@pytest.mark.slow
def test_a_run_killed_mid_clip_is_repaired_by_the_next_start(tmp_path: Path) -> None:
    """SIGKILL of `citywatch run` after the fire incident is stored and before its clip is written
    (10 s of post-roll): the next start closes the incident and says why it has no clip; nothing
    is lost or duplicated."""
    path = tmp_path / "cameras.yaml"
    raw = {
        "storage": {
            "database_url": f"sqlite:///{tmp_path / 'cw.db'}",
            "evidence_dir": str(tmp_path / "evidence"),
        },
        "evidence": {"pre_roll_s": 2, "post_roll_s": 10, "clip_fps": 10},
        "models": {"intra_op_threads": 1},
        "thresholds": {"fire": {"smoke_min_confidence": 0.4}},
        "cameras": [camera("fire-cam", FIRE_CLIP)],
    }
    path.write_text(yaml.safe_dump(raw))
    config = parse_config(raw, source="test", base_dir=tmp_path)
    command = [sys.executable, "-m", "citywatch.cli", "run", "--config", str(path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not [i for i in stored(config) if i.type is IncidentType.FIRE]:
            assert process.poll() is None and time.monotonic() < deadline, "no fire incident stored"
            time.sleep(0.2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    (orphan,) = [i for i in stored(config) if i.type is IncidentType.FIRE]
    assert orphan.clip_path is None and orphan.ended_at is None and orphan.evidence_error is None
    again = subprocess.run([*command, "--duration", "3"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    repaired = next(i for i in stored(config) if i.id == orphan.id)
    assert repaired.ended_at is not None and repaired.clip_path is None
    assert (
        repaired.evidence_error is not None
        and "citywatch stopped before writing it" in repaired.evidence_error
    )
    assert repaired.snapshot_path == orphan.snapshot_path  # what was written is kept
