"""MQTT against the real local Mosquitto: topics, retained camera status, and a broker restart."""

import json
import time

import paho.mqtt.client as mqtt
import pytest
from notifier_services import MQTT_HOST, MQTT_PORT, Subscriber, incident, start_broker, stop_broker
from paho.mqtt.enums import CallbackAPIVersion

from citywatch.config import MqttSettings, NotificationSettings
from citywatch.domain.incident_types import IncidentType
from citywatch.notifiers.dispatcher import Notifier
from citywatch.notifiers.mqtt import MqttChannel
from citywatch.video.state import CameraState, StateChange

pytestmark = pytest.mark.usefixtures("broker")


def _notifier(prefix: str, dead: list | None = None) -> tuple[Notifier, MqttChannel]:
    settings = NotificationSettings(mqtt=MqttSettings(topic_prefix=prefix))
    channel = MqttChannel(settings.mqtt)
    sink = dead if dead is not None else []
    notifier = Notifier(settings, [channel], dead_letter=lambda m, n, e: sink.append((m, n, e)))
    notifier.start()
    _wait(lambda: channel.connected, "the notifier never connected")
    return notifier, channel


def _wait(condition, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _clear_retained(topics: list[str]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(MQTT_HOST, MQTT_PORT)
    client.loop_start()
    for topic in topics:
        client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_incidents_and_retained_camera_status(topic_prefix: str) -> None:
    live = Subscriber(f"{topic_prefix}/#")
    notifier, _ = _notifier(topic_prefix)
    status_topic = f"{topic_prefix}/cameras/cam01/status"
    try:
        fire = incident(IncidentType.FIRE, "cam01")
        notifier.on_state_change(StateChange("cam01", CameraState.CONNECTING, CameraState.STREAMING, 1, "up"))
        notifier.on_incident(fire)
        notifier.on_state_change(StateChange("cam01", CameraState.STREAMING, CameraState.OFFLINE, 2, "gone"))
        topic = f"{topic_prefix}/incidents/fire/cam01"
        got = live.wait_for(lambda ms: any(t == topic for t, _, _ in ms))
        payload = json.loads(next(p for t, p, _ in got if t == topic))
        assert payload["id"] == fire.id
        assert payload["type"] == "fire" and payload["camera_id"] == "cam01"
        assert payload["severity"] == "high" and payload["confidence"] == 0.87
        assert payload["time"].endswith("+00:00")
        live.wait_for(lambda ms: sum(t == status_topic for t, _, _ in ms) == 2)

        late = Subscriber(f"{topic_prefix}/cameras/+/status")  # connects after both changes
        retained = late.wait_for(lambda ms: len(ms) >= 1)
        late.close()
        assert len(retained) == 1
        topic, body, retain = retained[0]
        assert (topic, retain) == (status_topic, True)
        assert json.loads(body)["state"] == "offline"  # the newest state, not the first
    finally:
        notifier.stop()
        live.close()
        _clear_retained([status_topic, f"{topic_prefix}/status"])


def test_alerts_raised_while_mosquitto_is_down_arrive_after_it_returns(topic_prefix: str) -> None:
    # A persistent session (fixed id, clean_session False, QoS 1) that the broker keeps across its
    # restart (persistence is on), so the subscriber does not have to win a race with the publisher.
    client_id = f"{topic_prefix}-sub"
    subscriber = Subscriber(f"{topic_prefix}/incidents/#", client_id=client_id, clean_session=False)
    subscriber.close()
    notifier, channel = _notifier(topic_prefix)
    raised = [incident(IncidentType.WEAPON, f"cam0{i}") for i in range(3)]
    try:
        stop_broker()
        started = time.monotonic()
        for item in raised:
            notifier.on_incident(item)
        assert time.monotonic() - started < 0.05  # the pipeline side never waits for the broker
        _wait(lambda: channel.unconfirmed() == 3, "the alerts were not held for the broker")
        assert not channel.connected
        time.sleep(0.5)
        assert channel.unconfirmed() == 3

        start_broker()
        subscriber = Subscriber(f"{topic_prefix}/incidents/#", client_id=client_id, clean_session=False)
        ids = {i.id for i in raised}
        got = subscriber.wait_for(lambda ms: {json.loads(p)["id"] for _, p, _ in ms} >= ids)
        assert {t for t, _, _ in got} == {f"{topic_prefix}/incidents/weapon/cam0{i}" for i in range(3)}
        _wait(lambda: channel.unconfirmed() == 0, "the broker never acknowledged the alerts")
        subscriber.close()
    finally:
        start_broker()
        notifier.stop()
        Subscriber("#", client_id=client_id, clean_session=True).close()  # drop the persistent session
        _clear_retained([f"{topic_prefix}/status"])


def test_alerts_unconfirmed_at_shutdown_become_dead_letters(topic_prefix: str) -> None:
    dead: list = []
    notifier, channel = _notifier(topic_prefix, dead)
    try:
        stop_broker()
        notifier.on_incident(item := incident(IncidentType.FIGHT, "cam07"))
        _wait(lambda: channel.unconfirmed() == 1, "the alert was not handed to paho")
        notifier.stop(grace_s=0.3)
    finally:
        start_broker()
        _clear_retained([f"{topic_prefix}/status"])
    assert [(m.incident_id, m.target, e) for m, _, e in dead] == [
        (item.id, f"{topic_prefix}/incidents/fight/cam07", "not confirmed before shutdown")
    ]
