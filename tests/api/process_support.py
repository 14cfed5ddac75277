"""Helpers of the tests that run `citywatch` as an operator does: a real process, a real port."""

import socket
import subprocess
import sys
import time

import httpx

CITYWATCH = [sys.executable, "-m", "citywatch.cli"]


def citywatch(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CITYWATCH, *args], input=stdin, capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(client: httpx.Client, server: subprocess.Popen, timeout_s: float = 30) -> dict:
    """The first answer of /api/health of the server starting behind `client`."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert server.poll() is None, f"the server exited with {server.returncode}"
        try:
            return client.get("/api/health").json()
        except httpx.TransportError:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
