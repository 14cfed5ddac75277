"""Evidence files written from real video frames: annotated snapshots, clips, and their failures."""

import re
import resource
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import cv2
import numpy as np
import pytest
import supervision as sv

from citywatch.config import EvidenceSettings
from citywatch.domain.incident import EvidenceBox, Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.storage.annotate import annotate, header_text, label_color_index
from citywatch.storage.evidence import EvidenceError, EvidenceWriter
from citywatch.video.frame import Frame

FIRE_BOXES = ((176, 84, 200, 117), (154, 152, 171, 196))
"""Two fire boxes (x1, y1, x2, y2) of the dataset's labels for the first frames of furg_house6.mp4."""
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC, 2023-11-15 05:13:20 in Bangkok
BANGKOK = ZoneInfo("Asia/Bangkok")


@pytest.fixture
def writer(tmp_path: Path) -> EvidenceWriter:
    return EvidenceWriter(tmp_path / "evidence", EvidenceSettings())


def fire_incident(image: np.ndarray | None) -> Incident:
    (fire, smoke) = FIRE_BOXES
    return Incident(
        type=IncidentType.FIRE,
        camera_id="cam01",
        started_at=T0,
        confidence=0.9,
        subtype="fire",
        boxes=[EvidenceBox(fire, "fire", 0.9), EvidenceBox(smoke, "smoke", 0.6)],
        frame=image,
    )


@contextmanager
def file_size_limit(max_bytes: int) -> Iterator[None]:
    """Writes past `max_bytes` fail with EFBIG, as root too (unlike chmod): a disk that fills up
    halfway through a file. SIGXFSZ is ignored so the write fails instead of killing the process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_snapshot_is_a_jpeg_of_the_frame_with_boxes_and_header(
    writer: EvidenceWriter, fire_image: np.ndarray, tmp_path: Path
) -> None:
    incident = fire_incident(fire_image)
    path = writer.snapshot(incident)

    assert path == tmp_path / "evidence" / "cam01" / "2023-11-14" / f"{incident.id}.jpg"
    assert writer.relative(path) == f"cam01/2023-11-14/{incident.id}.jpg"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left
    with_header = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert with_header is not None
    bar = with_header.shape[0] - fire_image.shape[0]
    assert 10 < bar < 60 and with_header.shape[1:] == fire_image.shape[1:]  # a bar above, nothing hidden
    assert with_header[:4].mean() < 20  # the header's black bar
    snapshot = with_header[bar:]
    difference = np.abs(snapshot.astype(int) - fire_image.astype(int))

    for (x1, y1, _, y2), label in zip(FIRE_BOXES, ("fire", "smoke"), strict=True):
        left_edge = snapshot[y1 + 8 : y2 - 4, x1 : x1 + 2].reshape(-1, 3).mean(axis=0)
        expected = np.array(sv.ColorPalette.DEFAULT.by_idx(label_color_index(label)).as_bgr())
        assert np.abs(left_edge - expected).max() < 60, (label, left_edge, expected)
        assert difference[y1 + 8 : y2 - 4, x1 : x1 + 2].mean() > 30
    assert difference[200:, 300:].mean() < 6  # far from boxes: only JPEG noise
    assert incident.frame is fire_image and np.array_equal(fire_image, fire_image.copy())  # not drawn on


def test_labels_get_distinct_stable_colours() -> None:
    assert label_color_index("fire") == label_color_index("fire")
    assert label_color_index("fire") != label_color_index("smoke")


def test_header_names_type_camera_and_the_cameras_local_time_whatever_the_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "EST+5")  # a server in New York (POSIX spelling, no tz database needed)
    time.tzset()
    try:
        incident = fire_incident(None)
        assert header_text(incident, BANGKOK) == "fire/fire  cam01  2023-11-15 05:13:20 +0700"
        assert header_text(incident, ZoneInfo("UTC")) == "fire/fire  cam01  2023-11-14 22:13:20 +0000"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_writer_draws_each_cameras_header_in_its_time_zone(
    tmp_path: Path, fire_image: np.ndarray
) -> None:
    """The snapshot is the frame annotated in the camera's zone (identical pixels), not in UTC; a
    camera the writer was given no zone for is written in UTC."""
    incident = fire_incident(fire_image)

    def jpeg(zone: tzinfo) -> np.ndarray:
        quality = [cv2.IMWRITE_JPEG_QUALITY, EvidenceSettings().snapshot_quality]
        return cv2.imdecode(
            cv2.imencode(".jpg", annotate(incident, fire_image, zone), quality)[1], cv2.IMREAD_COLOR
        )

    zoned = EvidenceWriter(tmp_path / "zoned", EvidenceSettings(), {"cam01": BANGKOK}).snapshot(incident)
    plain = EvidenceWriter(tmp_path / "plain", EvidenceSettings()).snapshot(incident)
    assert np.array_equal(cv2.imread(str(zoned)), jpeg(BANGKOK))
    assert np.array_equal(cv2.imread(str(plain)), jpeg(UTC))
    assert not np.array_equal(jpeg(BANGKOK), jpeg(UTC))


def test_snapshot_without_a_frame_is_an_evidence_error(writer: EvidenceWriter) -> None:
    with pytest.raises(EvidenceError, match="has no frame"):
        writer.snapshot(fire_incident(None))


def test_snapshot_into_a_path_that_cannot_be_a_folder_names_the_path(
    tmp_path: Path, fire_image: np.ndarray
) -> None:
    """The evidence folder is a regular file: mkdir fails even as root (chmod would not)."""
    blocker = tmp_path / "evidence"
    blocker.write_text("not a folder")
    incident = fire_incident(fire_image)
    with pytest.raises(
        EvidenceError,
        match=re.escape(f"cannot write snapshot {blocker}/cam01/2023-11-14/{incident.id}.jpg: "),
    ):
        EvidenceWriter(blocker, EvidenceSettings()).snapshot(incident)


def test_snapshot_on_a_full_disk_names_the_path_and_leaves_no_file(
    writer: EvidenceWriter, fire_image: np.ndarray, tmp_path: Path
) -> None:
    incident = fire_incident(fire_image)
    folder = tmp_path / "evidence" / "cam01" / "2023-11-14"
    with file_size_limit(1000), pytest.raises(EvidenceError) as error:
        writer.snapshot(incident)
    assert str(error.value) == f"cannot write snapshot {folder / incident.id}.jpg: File too large"
    assert list(folder.iterdir()) == []


def test_clip_is_an_h264_mp4_of_the_frames(
    writer: EvidenceWriter, camera_frames: list[Frame], tmp_path: Path
) -> None:
    incident = fire_incident(camera_frames[0].image)
    path = writer.clip(incident, camera_frames)

    assert path == tmp_path / "evidence" / "cam01" / "2023-11-14" / f"{incident.id}.mp4"
    assert writer.relative(path) == f"cam01/2023-11-14/{incident.id}.mp4"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        decoded = [frame.to_ndarray(format="bgr24") for frame in container.decode(stream)]
    assert len(decoded) == len(camera_frames)
    assert decoded[0].shape == camera_frames[0].image.shape


def test_clip_without_frames_is_an_evidence_error(writer: EvidenceWriter, fire_image: np.ndarray) -> None:
    with pytest.raises(EvidenceError, match=r"cannot write clip .*\.mp4: no frames"):
        writer.clip(fire_incident(fire_image), [])


def test_clip_on_a_full_disk_is_an_evidence_error_and_leaves_no_file(
    writer: EvidenceWriter, camera_frames: list[Frame], tmp_path: Path
) -> None:
    incident = fire_incident(camera_frames[0].image)
    folder = tmp_path / "evidence" / "cam01" / "2023-11-14"
    with (
        file_size_limit(2000),
        pytest.raises(
            EvidenceError, match=re.escape(f"cannot write clip {folder / incident.id}.mp4: File too large")
        ),
    ):
        writer.clip(incident, camera_frames)
    assert list(folder.iterdir()) == []
