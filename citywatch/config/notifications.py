"""Outgoing alerts: MQTT, webhooks, LINE, their routes and quiet hours."""

from typing import Literal, Self

from pydantic import Field, model_validator

from citywatch.config.base import LocalTime, StrictModel, TimeZoneName
from citywatch.domain.incident_types import IncidentType, Severity

AlertType = Literal[tuple(t.value for t in IncidentType)]  # type: ignore[valid-type]
"""Every incident type, camera health included: what a notification route may name."""


class QuietHours(StrictModel):
    start: LocalTime = Field(description="Local time the quiet window starts, in quotes: '22:00'.")
    end: LocalTime = Field(
        description="Local time it ends, in quotes: '06:00'; earlier than start means past midnight."
    )
    min_severity: Severity = Field(
        default="high",
        description="Only incidents at least this severe are sent meanwhile (weapon, fight, accident, fire "
        "are high; fall, no_helmet, camera health are medium).",
    )


class MqttSettings(StrictModel):
    host: str = Field(default="127.0.0.1", description="MQTT broker host.")
    port: int = Field(default=1883, ge=1, le=65535, description="MQTT broker port (8883 is usual with TLS).")
    topic_prefix: str = Field(
        default="citywatch",
        pattern=r"^[^#+]+$",
        description="First level of every topic: <prefix>/cameras/<id>/status, "
        "<prefix>/incidents/<type>/<camera_id>.",
    )
    qos: Literal[1, 2] = Field(
        default=1, description="QoS of incident and status messages; 0 is not offered: it loses alerts."
    )
    username: str | None = Field(default=None, description="Broker user name, if it asks for one.")
    password: str | None = Field(default=None, description="Broker password (use ${VAR}, not the file).")
    tls: bool = Field(default=False, description="Connect with TLS, checking the broker's certificate.")
    client_id: str | None = Field(
        default=None, description="MQTT client id; 'citywatch-<host>-<pid>' if unset."
    )
    keepalive_s: int = Field(default=30, ge=5, description="Seconds between keep-alive pings.")
    max_queued: int = Field(
        default=10000, ge=1, description="Messages held while the broker is unreachable; more wait for room."
    )
    quiet_hours: QuietHours | None = Field(default=None, description="Quiet window of this channel.")


class HttpChannelSettings(StrictModel):
    timeout_s: float = Field(default=10, gt=0, description="Seconds to wait for connect and for the answer.")
    max_attempts: int = Field(default=5, ge=1, description="Tries before the message becomes a dead letter.")
    backoff_initial_s: float = Field(
        default=2, gt=0, description="Wait before the second try; doubles after."
    )
    backoff_max_s: float = Field(default=300, gt=0, description="Longest wait between tries.")
    quiet_hours: QuietHours | None = Field(default=None, description="Quiet window of this channel.")


class WebhookSettings(HttpChannelSettings):
    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Channel name used in `routes` and dead letters."
    )
    url: str = Field(pattern=r"^https?://", description="Receiver URL; incidents are POSTed to it as JSON.")
    secret: str = Field(
        min_length=16,
        description="HMAC-SHA256 key: X-Citywatch-Signature is sha256=<hex> of "
        "'<X-Citywatch-Timestamp>.<raw body>'.",
    )


class LineSettings(HttpChannelSettings):
    channel_access_token: str = Field(min_length=1, description="LINE Messaging API channel access token.")
    to: list[str] = Field(min_length=1, description="User, group or room ids that get each push.")
    base_url: str = Field(
        default="https://api.line.me", pattern=r"^https?://", description="LINE Messaging API base URL."
    )


class RouteRule(StrictModel):
    incident_types: list[AlertType] | None = Field(
        default=None, description="Incident types this rule matches; any type when left out."
    )
    cameras: list[str] | None = Field(
        default=None, description="Camera ids it matches; any camera when left out."
    )
    channels: list[str] = Field(
        description="Channels that get matching incidents: 'mqtt', 'line' or a webhook's name ([] for none)."
    )


class NotificationSettings(StrictModel):
    timezone: TimeZoneName = Field(
        default="Asia/Bangkok", description="Time zone of quiet hours and of LINE texts."
    )
    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https://",
        description="Public https URL of the API; with evidence_link_secret, LINE pushes get the snapshot.",
    )
    evidence_link_secret: str | None = Field(
        default=None, min_length=16, description="Key that signs the expiring snapshot links sent to LINE."
    )
    evidence_link_ttl_s: float = Field(
        default=7 * 86400, gt=0, description="How long a signed snapshot link stays valid."
    )
    mqtt: MqttSettings | None = Field(default=None, description="MQTT broker; no MQTT when left out.")
    webhooks: list[WebhookSettings] = Field(default_factory=list, description="HTTP receivers of incidents.")
    line: LineSettings | None = Field(default=None, description="LINE push; no LINE when left out.")
    routes: list[RouteRule] = Field(
        default_factory=list,
        description="First rule matching an incident's type and camera picks its channels; all channels "
        "when none matches.",
    )

    @model_validator(mode="after")
    def _known_channels(self) -> Self:
        names = [w.name for w in self.webhooks]
        for name in names:
            if name in ("mqtt", "line") or names.count(name) > 1:
                raise ValueError(f"webhook name {name!r} is used twice or is reserved ('mqtt', 'line')")
        known = set(self.channel_names())
        for i, route in enumerate(self.routes):
            unknown = sorted(set(route.channels) - known)
            if unknown:
                raise ValueError(f"routes[{i}] names channels that are not configured: {', '.join(unknown)}")
        return self

    def channel_names(self) -> list[str]:
        return (
            (["mqtt"] if self.mqtt else [])
            + (["line"] if self.line else [])
            + [w.name for w in self.webhooks]
        )
