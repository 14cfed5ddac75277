"""One camera: decode its stream on a thread of its own, hand the newest frame on, reconnect on failure.

A dead or hung camera never blocks another: each source has its own decode thread, every network
open and read has a timeout (PyAV's interrupt callback), and a small monitor thread ticks the
health state machine, so a read that hangs still shows as STALLED and then OFFLINE.
"""

import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np
from av.codec.hwaccel import HWAccel

from citywatch.config import CameraConfig, HealthSettings
from citywatch.video.frame import Frame
from citywatch.video.sampler import Sampler
from citywatch.video.state import CameraState, ConnectionStateMachine, StateChange

log = logging.getLogger(__name__)

_LIVE_ANALYZE_US = "500000"
"""How long FFmpeg probes a live stream before the first frame (its default is 5 s); the RTSP
session description already names the codec, so half a second is plenty."""


@dataclass(frozen=True)
class SourceStats:
    """Counters of one source since start. `frames_decoded`: pictures decoded from the stream;
    `frames_thinned`: of those, the ones above `max_fps`, never converted nor handed on;
    `frames_dropped`: frames overwritten before anyone took them; `reconnects`: attempts to open
    the stream again after a failure; `last_error` stays after the camera recovers, so operators
    can see why it went down."""

    frames_decoded: int
    frames_dropped: int
    reconnects: int
    last_error: str | None
    last_frame_at: float | None
    frames_thinned: int = 0


class _StreamError(Exception):
    """A failure of the stream itself, with a message fit for operators."""


@functools.cache
def hardware_decoding(device_type: str) -> HWAccel | None:
    """PyAV's hardware decoding on `device_type` ("cuda": NVDEC) if this machine can open it, else
    None, said once per process in a log line: cameras then decode in software. Probed on its own
    (an H.264 decoder context), so a camera that fails to connect is never taken for a missing GPU.
    """
    try:
        accel = HWAccel(device_type=device_type, allow_software_fallback=True)
        accel.create(av.Codec("h264", "r"))
    except (av.FFmpegError, ValueError) as exc:
        cause = getattr(exc, "strerror", None) or str(exc)
        log.warning(
            "hardware decoding (%s) is not available here (%s): decoding in software", device_type, cause
        )
        return None
    log.info("hardware decoding on %s", device_type)
    return accel


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, for logs, errors and the UI."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{host}{slash}{path}"


class CameraSource:
    """Decodes one camera on its own daemon thread; the newest frame waits in a one-frame slot.

    `on_frame` runs on the decode thread for every delivered frame (keep it cheap: it delays decoding).
    With `max_fps`, pictures beyond that rate are decoded (H.264 needs them) but not converted to
    BGR nor delivered: conversion costs about as much as decoding, and nothing downstream (clips,
    analytics) uses more than `max_fps`.
    `hwaccel` names a PyAV hardware decoder ("cuda" for NVDEC) to decode with where the machine has
    it (see `hardware_decoding`), else software decoding.
    `on_state` gets every health transition. Frame indices keep counting across reconnects. A local
    file with `realtime` is paced at its own frame rate; without `loop` its end stops the source
    (state STOPPED, reason "end of file"). A source runs once: start() after stop() is an error.
    """

    def __init__(
        self,
        camera: CameraConfig,
        health: HealthSettings,
        on_frame: Callable[[Frame], None] | None = None,
        on_state: Callable[[StateChange], None] | None = None,
        max_fps: float | None = None,
        hwaccel: str | None = None,
    ) -> None:
        self._camera = camera
        self._hwaccel = hardware_decoding(hwaccel) if hwaccel else None
        self._thinning = Sampler(max_fps) if max_fps else None
        self._health = health
        self._on_frame = on_frame
        self._machine = ConnectionStateMachine(camera.id, health, on_change=on_state)
        self._display_url = redact_url(camera.url)
        self._is_file = "://" not in camera.url
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._next_index = 0
        self._frames_decoded = 0
        self._frames_thinned = 0
        self._frames_dropped = 0
        self._reconnects = 0
        self._last_error: str | None = None
        self._last_frame_at: float | None = None
        # Decode-thread only: when the current open or read began waiting, and whether it is open.
        self._waiting_since = 0.0
        self._opened = False

    @property
    def camera_id(self) -> str:
        return self._camera.id

    @property
    def state(self) -> CameraState:
        return self._machine.state

    @property
    def stats(self) -> SourceStats:
        with self._lock:
            return SourceStats(
                self._frames_decoded,
                self._frames_dropped,
                self._reconnects,
                self._last_error,
                self._last_frame_at,
                self._frames_thinned,
            )

    def start(self) -> None:
        if self._threads:
            raise RuntimeError(f"camera {self._camera.id}: source already started")
        self._machine.connecting()
        name = self._camera.id
        self._threads = [
            threading.Thread(target=self._decode_loop, name=f"decode-{name}", daemon=True),
            threading.Thread(target=self._monitor_loop, name=f"health-{name}", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def threads_alive(self) -> bool:
        """False when a thread of this source died while it should run (not stopped, not at the
        end of its file): for the Supervisor's watchdog."""
        return self._stop.is_set() or all(thread.is_alive() for thread in self._threads)

    def stop(self, timeout: float = 5) -> None:
        """Stop decoding and wait up to `timeout` seconds for the threads. A read blocked in FFmpeg
        ends at its own timeout at the latest; the threads are daemons, so none outlives the process."""
        self._stop.set()
        self._machine.stopped()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("camera %s: thread %s still running after stop", self._camera.id, thread.name)

    def take_latest(self) -> Frame | None:
        """The newest frame not taken yet, or None; older frames that nobody took are dropped."""
        with self._lock:
            frame, self._latest = self._latest, None
            return frame

    def _decode_loop(self) -> None:
        after_failure = False
        while not self._stop.is_set():
            if after_failure:
                with self._lock:
                    self._reconnects += 1
            after_failure = True
            try:
                self._stream_until_end()
            except Exception as exc:
                self._failed(self._describe(exc), exc)
                continue
            if self._stop.is_set():
                return
            if not self._is_file:
                self._failed("the stream ended", None)
            elif self._camera.loop:
                after_failure = False  # a loop restart is not a reconnect
            else:
                log.info("camera %s: %s: end of file", self._camera.id, self._display_url)
                self._machine.stopped("end of file")
                self._stop.set()

    def _stream_until_end(self) -> None:
        """Open the stream and decode until it ends, fails or stop() is called."""
        self._waiting_since = time.monotonic()
        self._opened = False
        container = av.open(
            self._camera.url,
            options=self._open_options(),
            timeout=(self._health.connect_timeout_s, self._read_timeout),
            hwaccel=self._hwaccel,
        )
        with container:
            self._opened = True
            self._waiting_since = time.monotonic()
            if not container.streams.video:
                raise _StreamError("no video stream in it")
            stream = container.streams.video[0]
            pace = self._is_file and self._camera.realtime
            origin: float | None = None  # monotonic time at which the stream's time 0 is shown
            decoded = 0
            for picture in container.decode(stream):
                if self._stop.is_set():
                    return
                timed_out = self._timed_out()
                if timed_out:
                    # When PyAV's read timeout interrupts it, FFmpeg still hands out the packet it
                    # held back; that stale frame must not count as the camera being back.
                    raise _StreamError(timed_out)
                if pace and picture.time is not None:
                    origin = time.monotonic() - picture.time if origin is None else origin
                    if self._stop.wait(origin + picture.time - time.monotonic()):
                        return
                decoded += 1
                if self._thinning is not None and not self._thinning.due(time.time()):
                    self._thin()
                    continue
                self._deliver(picture.to_ndarray(format="bgr24"))
        if decoded == 0:
            raise _StreamError("it ended before any frame was decoded")

    def _open_options(self) -> dict[str, str]:
        if self._is_file:
            return {}
        options = {"analyzeduration": _LIVE_ANALYZE_US}
        if self._camera.url.startswith(("rtsp://", "rtsps://")):
            options["rtsp_transport"] = "tcp"  # UDP loses packets (grey smears) and is often firewalled
        return options

    @property
    def _read_timeout(self) -> float:
        # Twice stalled_after_s: a hung read shows as STALLED first, then the connection is dropped
        # and opened again.
        return 2 * self._health.stalled_after_s

    def _thin(self) -> None:
        """A picture above max_fps: proof the stream is alive, nothing more."""
        self._next_index += 1
        with self._lock:
            self._frames_decoded += 1
            self._frames_thinned += 1
        self._waiting_since = time.monotonic()
        self._machine.frame_received()

    def _deliver(self, image: np.ndarray) -> None:
        frame = Frame(self._camera.id, self._next_index, time.time(), image)
        self._next_index += 1
        with self._lock:
            if self._latest is not None:
                self._frames_dropped += 1
            self._latest = frame
            self._frames_decoded += 1
            self._last_frame_at = frame.timestamp
        self._waiting_since = time.monotonic()
        self._machine.frame_received()
        if self._on_frame is not None:
            self._on_frame(frame)

    def _timed_out(self) -> str | None:
        """The cause, when the current open or read of a network stream has waited past its timeout."""
        if self._is_file:
            return None
        waited = time.monotonic() - self._waiting_since
        limit = self._read_timeout if self._opened else self._health.connect_timeout_s
        return f"no answer for {waited:.1f} s (timed out)" if waited >= limit else None

    def _describe(self, exc: Exception) -> str:
        """A one-line cause for operators; never str(exc) of PyAV, which repeats the raw URL."""
        timed_out = self._timed_out()
        if timed_out and isinstance(exc, av.FFmpegError):
            # FFmpeg reports an interrupted network call as "invalid data" or "immediate exit
            # requested"; the time waited tells a timeout apart.
            return timed_out
        if isinstance(exc, _StreamError):
            return str(exc)
        if isinstance(exc, FileNotFoundError):
            return "file not found"
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused"
        if isinstance(exc, av.error.InvalidDataError) or self._garbage_taken_for_a_format(exc):
            return "invalid data (corrupt or truncated file, or not a video stream)"
        if isinstance(exc, av.FFmpegError | OSError) and exc.strerror:
            return str(exc.strerror)
        return f"{type(exc).__name__}: {exc}".replace(self._camera.url, self._display_url)

    def _garbage_taken_for_a_format(self, exc: Exception) -> bool:
        """A demuxer that takes garbage for its own format can give up with EPERM (about one random
        file in thirty); when the file itself is readable, to an operator that is invalid data."""
        return (
            self._is_file
            and isinstance(exc, av.error.PermissionError)
            and os.access(self._camera.url, os.R_OK)
        )

    def _failed(self, cause: str, exc: Exception | None) -> None:
        message = f"{self._display_url}: {cause}"
        with self._lock:
            self._last_error = message
        self._machine.connection_failed(cause)
        delay = self._machine.next_backoff()
        # Unexpected exception types get their traceback: they are bugs, not camera trouble.
        expected = exc is None or isinstance(exc, av.FFmpegError | OSError | _StreamError)
        log.error(
            "camera %s: %s; retrying in %.1f s",
            self._camera.id,
            message,
            delay,
            exc_info=None if expected else exc,
        )
        self._stop.wait(delay)

    def _monitor_loop(self) -> None:
        period = min(0.5, self._health.stalled_after_s / 4)
        while not self._stop.wait(period):
            self._machine.tick()
