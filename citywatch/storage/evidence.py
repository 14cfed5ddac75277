"""Evidence files of an incident: an annotated JPEG snapshot and an MP4 clip.

Layout: `<evidence_dir>/<camera_id>/<YYYY-MM-DD>/<incident_id>.jpg|.mp4`, the date being the UTC
date the incident started (server time zone changes never move files). Files appear atomically
(written under a temporary name in the same folder, then renamed; `write_clip` does the same for
clips), so a reader or a crash never sees half a file. Every failure is an `EvidenceError` naming
the file and the cause; the caller stores that message with the incident instead of the path.
"""

import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, tzinfo
from pathlib import Path

import av
import cv2

from citywatch.config import EvidenceSettings
from citywatch.domain.incident import Incident
from citywatch.storage.annotate import annotate
from citywatch.video.clip_writer import write_clip
from citywatch.video.frame import Frame


class EvidenceError(RuntimeError):
    """An evidence file could not be written (disk full, no permission, bad folder...)."""


class EvidenceWriter:
    def __init__(
        self, evidence_dir: Path, settings: EvidenceSettings, time_zones: Mapping[str, tzinfo] | None = None
    ) -> None:
        """`time_zones`: camera id -> the time zone of its snapshots' header (config.timezone_for);
        a camera not in it gets UTC (the header says +0000, so it is never misread)."""
        self._dir = Path(evidence_dir)
        self._settings = settings
        self._time_zones = dict(time_zones or {})

    def set_time_zones(self, time_zones: Mapping[str, tzinfo]) -> None:
        """The cameras' time zones from now on (cameras added or edited while running)."""
        self._time_zones = dict(time_zones)

    def time_zone_of(self, camera_id: str) -> tzinfo:
        """The time zone of the camera's snapshot headers."""
        return self._time_zones.get(camera_id, UTC)

    def snapshot(self, incident: Incident) -> Path:
        """Write the incident's frame with its boxes and header drawn as a JPEG; returns the path."""
        path = self._path_for(incident, ".jpg")
        if incident.frame is None:
            raise EvidenceError(f"cannot write snapshot {path}: incident {incident.id} has no frame")
        quality = [cv2.IMWRITE_JPEG_QUALITY, self._settings.snapshot_quality]
        zone = self.time_zone_of(incident.camera_id)
        ok, jpeg = cv2.imencode(".jpg", annotate(incident, incident.frame, zone), quality)
        if not ok:
            raise EvidenceError(f"cannot write snapshot {path}: JPEG encoding failed")
        with _atomic(path, "snapshot") as temp:
            temp.write_bytes(jpeg.tobytes())
        return path

    def clip(self, incident: Incident, frames: Sequence[Frame]) -> Path:
        """Write `frames` as an H.264 MP4 at the configured clip frame rate; returns the path."""
        path = self._path_for(incident, ".mp4")
        if not frames:
            raise EvidenceError(f"cannot write clip {path}: no frames")
        try:
            return write_clip(frames, path, self._settings.clip_fps)  # atomic itself
        except (OSError, av.FFmpegError) as exc:  # PyAV's I/O errors are OSErrors too (ENOSPC...)
            raise EvidenceError(f"cannot write clip {path}: {_cause(exc)}") from exc

    def relative(self, path: Path) -> str:
        """`path` relative to the evidence folder, with '/' separators: what the store keeps."""
        return Path(path).relative_to(self._dir).as_posix()

    def _path_for(self, incident: Incident, suffix: str) -> Path:
        """Where the file goes; never outside the evidence folder, whatever the camera id says (the
        config refuses `.`/`..`; this holds for ids from anywhere else too)."""
        day = time.strftime("%Y-%m-%d", time.gmtime(incident.started_at))
        path = self._dir / incident.camera_id / day / f"{incident.id}{suffix}"
        inside = path.resolve().is_relative_to(self._dir.resolve())
        if not inside or path.parent.parent.name != incident.camera_id:
            raise EvidenceError(f"camera id {incident.camera_id!r} would put evidence outside {self._dir}")
        return path


@contextmanager
def _atomic(path: Path, what: str) -> Iterator[Path]:
    """A temporary path next to `path` (same suffix, so writers can tell the format), renamed onto
    `path` when the block succeeds and removed when anything fails; OSError becomes EvidenceError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise _error(path, what, exc) from exc
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, path)
    except OSError as exc:
        raise _error(path, what, exc) from exc
    finally:
        temp.unlink(missing_ok=True)


def _error(path: Path, what: str, exc: OSError) -> EvidenceError:
    return EvidenceError(f"cannot write {what} {path}: {_cause(exc)}")


def _cause(exc: Exception) -> str:
    """'No space left on device' rather than '[Errno 28] No space left on device: '/x/.a.jpg''."""
    return getattr(exc, "strerror", None) or str(exc)
