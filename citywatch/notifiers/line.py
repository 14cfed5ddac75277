"""LINE Messaging API push (`POST <base_url>/v2/bot/message/push`), one push per recipient in `to`.

Each push is a text message (type, camera, local time, confidence, in Thai and English) and, when
`notifications.public_base_url` and `evidence_link_secret` are set and the incident has a
snapshot, an image message: LINE fetches images itself from a public https URL, so the image is a
signed, expiring link to the API (see evidence_links). `X-Line-Retry-Key` is the same on every
try of one push, so LINE accepts it once even when an answer was lost (a repeat gets 409).
"""

import json
import uuid
from zoneinfo import ZoneInfo

import httpx

from citywatch.config import LineSettings, NotificationSettings
from citywatch.domain.incident_types import name_of, severity_of
from citywatch.domain.stored_incident import StoredIncident
from citywatch.notifiers.delivery import DeliveryError, Message, RetryPolicy
from citywatch.notifiers.evidence_links import snapshot_link
from citywatch.notifiers.webhook import is_retryable_status
from citywatch.video.state import StateChange

PUSH_PATH = "/v2/bot/message/push"


class LineChannel:
    name = "line"

    def __init__(self, settings: LineSettings, notifications: NotificationSettings) -> None:
        self.retry = RetryPolicy(settings.max_attempts, settings.backoff_initial_s, settings.backoff_max_s)
        self.quiet_hours = settings.quiet_hours
        self._settings = settings
        self._notifications = notifications
        self._zone = ZoneInfo(notifications.timezone)
        self._url = settings.base_url.rstrip("/") + PUSH_PATH
        self._client = httpx.Client(
            timeout=settings.timeout_s,
            headers={"Authorization": f"Bearer {settings.channel_access_token}"},
        )

    def start(self) -> None:
        """Nothing to open: the HTTP client connects on the first request."""

    def incident_messages(self, incident: StoredIncident) -> list[Message]:
        messages = [{"type": "text", "text": self._text(incident)}]
        image = self._image_url(incident)
        if image is not None:
            messages.append({"type": "image", "originalContentUrl": image, "previewImageUrl": image})
        return [
            Message(
                self.name, str(uuid.uuid4()), to, {"to": to, "messages": messages}, incident_id=incident.id
            )
            for to in self._settings.to
        ]

    def status_messages(self, change: StateChange) -> list[Message]:
        return []

    def send(self, message: Message) -> None:
        body = json.dumps(message.body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Line-Retry-Key": message.key}
        try:
            response = self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(
                f"no answer within {self._settings.timeout_s:g} s ({type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if response.is_success or response.status_code == 409:  # 409: this retry key was accepted before
            return
        raise DeliveryError(
            f"HTTP {response.status_code}: {response.text[:200]}",
            permanent=not is_retryable_status(response.status_code),
        )

    def close(self, timeout: float) -> list[Message]:
        self._client.close()
        return []

    def _text(self, incident: StoredIncident) -> str:
        kind = incident.type + (f"/{incident.subtype}" if incident.subtype else "")
        local = incident.started_at.astimezone(self._zone).strftime("%Y-%m-%d %H:%M:%S")
        return (
            f"[citywatch] {name_of(incident.type, 'th')} ({kind}), "
            f"severity {severity_of(incident.type)}\n"
            f"กล้อง camera: {incident.camera_id}\n"
            f"เวลา time: {local} ({self._notifications.timezone})\n"
            f"ความมั่นใจ confidence: {incident.confidence:.0%}\n"
            f"id: {incident.id}"
        )

    def _image_url(self, incident: StoredIncident) -> str | None:
        n = self._notifications
        if incident.snapshot_path is None or n.public_base_url is None or n.evidence_link_secret is None:
            return None
        return snapshot_link(n.public_base_url, n.evidence_link_secret, incident.id, n.evidence_link_ttl_s)
