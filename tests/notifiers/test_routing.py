"""Routing rules, quiet hours and severity, and the config errors that name the key."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from citywatch.config import ConfigError, NotificationSettings, QuietHours, parse_config
from citywatch.domain.incident_types import IncidentType, severity_of
from citywatch.notifiers.routing import Router

BANGKOK = ZoneInfo("Asia/Bangkok")
WEBHOOK = {"url": "https://example.org/hook", "secret": "0123456789abcdef"}


def _at(hour: int, minute: int = 0) -> float:
    return datetime(2024, 5, 1, hour, minute, tzinfo=BANGKOK).timestamp()


def _settings(**raw: object) -> NotificationSettings:
    base = {
        "mqtt": {},
        "line": {"channel_access_token": "t", "to": ["U1"]},
        "webhooks": [WEBHOOK | {"name": "ops"}],
    }
    return NotificationSettings.model_validate(base | raw)


def _router(settings: NotificationSettings, quiet: dict[str, QuietHours | None] | None = None) -> Router:
    return Router(settings, {name: (quiet or {}).get(name) for name in settings.channel_names()})


def test_severity_per_type() -> None:
    assert {t: severity_of(t) for t in IncidentType} == {
        IncidentType.WEAPON: "high",
        IncidentType.FIGHT: "high",
        IncidentType.FALL: "medium",
        IncidentType.NO_HELMET: "medium",
        IncidentType.ACCIDENT: "high",
        IncidentType.FIRE: "high",
        IncidentType.CAMERA_OFFLINE: "medium",
        IncidentType.CAMERA_TAMPERED: "medium",
    }


def test_first_matching_rule_picks_the_channels_else_all() -> None:
    router = _router(
        _settings(
            routes=[
                {"incident_types": ["no_helmet"], "channels": ["mqtt"]},
                {
                    "cameras": ["cam-school"],
                    "incident_types": ["fight", "weapon"],
                    "channels": ["line", "ops"],
                },
                {"cameras": ["cam-lab"], "channels": []},
            ]
        )
    )
    noon = _at(12)
    assert router.channels_for("no_helmet", "cam-school", noon) == ["mqtt"]
    assert router.channels_for("weapon", "cam-school", noon) == ["line", "ops"]
    assert router.channels_for("weapon", "cam-market", noon) == ["mqtt", "line", "ops"]
    assert router.channels_for("fire", "cam-lab", noon) == []


def test_quiet_hours_across_midnight_let_only_severe_incidents_through() -> None:
    night = QuietHours.model_validate({"start": "22:00", "end": "06:00"})
    router = _router(_settings(), {"line": night})
    for hour in (22, 23, 0, 5):
        assert router.channels_for("fall", "cam01", _at(hour)) == ["mqtt", "ops"]
        assert router.channels_for("fire", "cam01", _at(hour)) == ["mqtt", "line", "ops"]
    for hour in (6, 12, 21):
        assert router.channels_for("fall", "cam01", _at(hour)) == ["mqtt", "line", "ops"]
    assert router.channels_for("fall", "cam01", _at(21, 59)) == ["mqtt", "line", "ops"]


def test_quiet_hours_within_a_day_and_medium_threshold() -> None:
    lunch = QuietHours.model_validate({"start": "12:00", "end": "13:00", "min_severity": "medium"})
    router = _router(_settings(), {"ops": lunch})
    assert "ops" in router.channels_for("camera_offline", "cam01", _at(12, 30))
    assert "ops" in router.channels_for("no_helmet", "cam01", _at(12, 30))
    assert "ops" in router.channels_for("weapon", "cam01", _at(12, 30))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"routes": [{"channels": ["pager"]}]}, "routes[0] names channels that are not configured: pager"),
        ({"webhooks": [WEBHOOK | {"name": "mqtt"}]}, "webhook name 'mqtt' is used twice or is reserved"),
        ({"webhooks": [WEBHOOK | {"name": "a"}, WEBHOOK | {"name": "a"}]}, "webhook name 'a' is used twice"),
        ({"timezone": "Asia/Bangkokk"}, "key notifications.timezone: Value error, unknown time zone"),
        ({"mqtt": {"qos": 0}}, "key notifications.mqtt.qos"),
        ({"webhooks": [WEBHOOK | {"name": "a", "secret": "short"}]}, "key notifications.webhooks.0.secret"),
        ({"line": {"channel_access_token": "t", "to": []}}, "key notifications.line.to"),
        (
            {"mqtt": {"quiet_hours": {"start": "22:00"}}},
            "key notifications.mqtt.quiet_hours.end: Field required",
        ),
        ({"mqtt": {"retain": True}}, "key notifications.mqtt.retain: Extra inputs are not permitted"),
    ],
)
def test_config_errors_name_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^cameras\.yaml: ") as error:
        parse_config({"notifications": raw}, source="cameras.yaml")
    assert message in str(error.value)


def test_defaults_send_nothing_outside() -> None:
    config = parse_config({})
    assert config.notifications.channel_names() == []
    assert config.notifications.timezone == "Asia/Bangkok"
