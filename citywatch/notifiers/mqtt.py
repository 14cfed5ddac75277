"""MQTT (paho-mqtt): retained camera status and one message per incident.

Topics (prefix `citywatch` by default):
  <prefix>/status                         "online" / "offline" (retained; "offline" is also the will)
  <prefix>/cameras/<camera_id>/status     the camera's state as JSON (retained: a late subscriber
                                          gets every camera's current state at once)
  <prefix>/incidents/<type>/<camera_id>   each incident as JSON (not retained)

While the broker is unreachable, paho keeps the QoS 1/2 messages in its own queue (up to
`max_queued`) and, reconnecting by itself in the background, sends them when the broker is back;
a message sent just before the connection broke is re-sent unless the broker acknowledged it.
Messages still unacknowledged at shutdown become dead letters.
"""

import json
import logging
import os
import socket
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from citywatch.config import MqttSettings
from citywatch.domain.stored_incident import StoredIncident
from citywatch.notifiers.delivery import DeliveryError, Message, RetryPolicy
from citywatch.notifiers.payloads import camera_status_payload, incident_payload
from citywatch.video.state import StateChange

log = logging.getLogger(__name__)

_RETRY = RetryPolicy(max_attempts=10, backoff_initial_s=1, backoff_max_s=30)
"""A try fails only when paho's queue is full (a long outage); it then waits for room."""


class MqttChannel:
    name = "mqtt"
    retry = _RETRY

    def __init__(self, settings: MqttSettings) -> None:
        self.quiet_hours = settings.quiet_hours
        self._settings = settings
        self._prefix = settings.topic_prefix.rstrip("/")
        client_id = settings.client_id or f"citywatch-{socket.gethostname()}-{os.getpid()}"
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password)
        if settings.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_queued_messages_set(settings.max_queued)
        client.will_set(f"{self._prefix}/status", "offline", qos=settings.qos, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self._client = client
        # Acknowledgements arrive on paho's thread while it holds its own lock; this lock is never
        # held while calling paho, so the two cannot deadlock.
        self._lock = threading.Lock()
        self._unconfirmed: dict[int, Message | None] = {}
        """By message id: what paho holds until the broker acknowledges it (None: our own status)."""
        self._acked_early: set[int] = set()
        self._idle = threading.Condition(self._lock)

    def start(self) -> None:
        """Connect in the background: a broker that is down now is retried, never an error."""
        self._client.connect_async(self._settings.host, self._settings.port, self._settings.keepalive_s)
        self._client.loop_start()

    def incident_messages(self, incident: StoredIncident) -> list[Message]:
        topic = f"{self._prefix}/incidents/{incident.type}/{incident.camera_id}"
        return [Message(self.name, incident.id, topic, incident_payload(incident), incident_id=incident.id)]

    def status_messages(self, change: StateChange) -> list[Message]:
        topic = f"{self._prefix}/cameras/{change.camera_id}/status"
        key = f"{change.camera_id}-{change.current}-{change.at:.3f}"
        return [Message(self.name, key, topic, camera_status_payload(change), retain=True)]

    def send(self, message: Message) -> None:
        payload = json.dumps(message.body, ensure_ascii=False).encode()
        rc = self._publish(message.target, payload, message.retain, message)
        if rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            raise DeliveryError(f"{self._settings.max_queued} messages already wait for the broker")
        if rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise DeliveryError(mqtt.error_string(rc))  # NO_CONN: queued, sent on reconnect

    @property
    def connected(self) -> bool:
        return self._client.is_connected()

    def unconfirmed(self) -> int:
        """Messages handed to paho that the broker has not acknowledged yet."""
        with self._lock:
            return len(self._unconfirmed)

    def close(self, timeout: float) -> list[Message]:
        with self._idle:
            self._idle.wait_for(lambda: not self._unconfirmed, timeout)
            left = [m for m in self._unconfirmed.values() if m is not None]
        if self._client.is_connected():
            self._client.publish(f"{self._prefix}/status", "offline", qos=self._settings.qos, retain=True)
        self._client.disconnect()
        self._client.loop_stop()
        return left

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning(
                "MQTT broker %s:%d refused the connection: %s",
                self._settings.host,
                self._settings.port,
                reason,
            )
            return
        log.info("MQTT connected to %s:%d", self._settings.host, self._settings.port)
        self._publish(f"{self._prefix}/status", b"online", True, None)

    def _publish(self, topic: str, payload: bytes, retain: bool, message: Message | None) -> MQTTErrorCode:
        info = self._client.publish(topic, payload, qos=self._settings.qos, retain=retain)
        if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            with self._lock:
                if info.mid in self._acked_early:  # the broker was faster than this thread
                    self._acked_early.discard(info.mid)
                else:
                    self._unconfirmed[info.mid] = message
        return info.rc

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        log.warning(
            "MQTT disconnected from %s:%d (%s); messages wait for the reconnect",
            self._settings.host,
            self._settings.port,
            reason,
        )

    def _on_publish(self, _client: mqtt.Client, _userdata: Any, mid: int, _reason: Any, _props: Any) -> None:
        with self._idle:
            if mid in self._unconfirmed:
                del self._unconfirmed[mid]
            else:
                self._acked_early.add(mid)
            self._idle.notify_all()
