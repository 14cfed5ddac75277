"""Real local services for the notifier tests: HTTP receivers that record what they get (webhook
and LINE doubles) and the local Mosquitto broker (127.0.0.1:1883), with its start and stop."""

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
MOSQUITTO_START = ["mosquitto", "-d", "-c", "/etc/mosquitto/mosquitto.conf"]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1; `script` says how to answer each request in turn (an int is a
    status, a float is seconds to hang before answering 200), then `default` for the rest."""

    url: str
    requests: list[Request] = field(default_factory=list)
    script: list[int | float] = field(default_factory=list)
    default: int | float = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 10) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} requests at {self.url}, got {len(self.requests)}")


def serve_receiver() -> Iterator[Receiver]:
    """A Receiver running until the generator is closed."""
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rec = state["receiver"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with rec.lock:
                rec.requests.append(Request(self.path, dict(self.headers), body, time.monotonic()))
                action = rec.script.pop(0) if rec.script else rec.default
            if isinstance(action, float):
                time.sleep(action)
                action = 200
            try:
                self.send_response(action)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            except OSError:  # the client gave up waiting (its timeout): expected here
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    state["receiver"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


def incident(
    type: IncidentType = IncidentType.FIRE, camera_id: str = "cam01", started_at: float | None = None
) -> Incident:
    return Incident(type=type, camera_id=camera_id, started_at=started_at or time.time(), confidence=0.87)


def broker_up(timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=timeout):
            return True
    except OSError:
        return False


def start_broker() -> None:
    """Start the local Mosquitto with its system config (persistence on) and wait for its port."""
    if not broker_up():
        subprocess.run(MOSQUITTO_START, check=True)
    deadline = time.monotonic() + 10
    while not broker_up():
        if time.monotonic() > deadline:
            raise RuntimeError("mosquitto did not open 127.0.0.1:1883")
        time.sleep(0.05)


def stop_broker() -> None:
    subprocess.run(["pkill", "-x", "mosquitto"], check=False)
    deadline = time.monotonic() + 10
    while broker_up():
        if time.monotonic() > deadline:
            raise RuntimeError("mosquitto did not stop")
        time.sleep(0.05)


class Subscriber:
    """A paho client that records (topic, payload, retain) of what it receives."""

    def __init__(self, topic: str, client_id: str | None = None, clean_session: bool = True) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or "", clean_session=clean_session
        )
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(MQTT_HOST, MQTT_PORT)
        self.client.loop_start()
        assert self._subscribed.wait(5), f"could not subscribe to {topic}"

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload, bool(message.retain)))

    def wait_for(self, predicate: Callable[[list[tuple[str, bytes, bool]]], bool], timeout: float = 10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate(self.messages):
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"MQTT messages never matched; got {self.messages}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
