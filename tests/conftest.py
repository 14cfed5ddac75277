"""Fixtures every test folder may use: a real RTSP server and a polling helper."""

import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from citywatch.paths import datasets_dir

RTSP_SERVER = Path(__file__).resolve().parent / "support" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's Python, which has GStreamer's bindings (gi)


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


WaitUntil = Callable[[Callable[[], bool], float, str], None]


@pytest.fixture
def wait_until() -> WaitUntil:
    """wait_until(predicate, timeout_s, what): poll until true, fail naming `what` on timeout."""
    return _wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RtspServer:
    """tests/support/rtsp_server.py in a subprocess, on a fixed port so it can be restarted."""

    def __init__(self, video: Path) -> None:
        self.video = video
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/cam"
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [SYSTEM_PYTHON, str(RTSP_SERVER), str(self.video), str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_until(self._accepts, 10, f"the RTSP server on port {self.port}")

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
            self._process.stdout.close()  # type: ignore[union-attr]
            self._process.stderr.close()  # type: ignore[union-attr]
            self._process = None

    def pause(self) -> None:
        """Freeze the server: connections stay open but nothing is answered or sent."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def _accepts(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise AssertionError(f"RTSP server exited: {self._process.stderr.read()}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False


@pytest.fixture
def rtsp_server() -> Iterator[RtspServer]:
    """The street video (768x432, 12.5 fps, 30 s) served at `rtsp_server.url`; restartable."""
    server = RtspServer(datasets_dir() / "streets" / "car-detection.mp4")
    server.start()
    yield server
    server.kill()
