"""HTTP webhooks: each incident POSTed as JSON, signed with HMAC-SHA256.

Headers: `X-Citywatch-Timestamp` (Unix seconds of this try), `X-Citywatch-Signature`
(`sha256=` + hex HMAC-SHA256 with the webhook's secret over `<timestamp>.<raw body>`: signing the
timestamp too lets receivers refuse replays), `X-Citywatch-Delivery` (the same on every try of
one message, for de-duplication) and `X-Citywatch-Event: incident`.
2xx is success; 408, 425, 429, 5xx, timeouts and connection errors are retried; other answers
are permanent failures (dead letter at once).
"""

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx

from citywatch.config import WebhookSettings
from citywatch.domain.stored_incident import StoredIncident
from citywatch.notifiers.delivery import DeliveryError, Message, RetryPolicy
from citywatch.notifiers.payloads import incident_payload
from citywatch.video.state import StateChange

_RETRYABLE_STATUS = frozenset({408, 425, 429})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (constant-time compare); it should also refuse old timestamps."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def is_retryable_status(status: int) -> bool:
    return status in _RETRYABLE_STATUS or status >= 500


class WebhookChannel:
    def __init__(self, settings: WebhookSettings, clock: Callable[[], float] = time.time) -> None:
        self.name = settings.name
        self.retry = RetryPolicy(settings.max_attempts, settings.backoff_initial_s, settings.backoff_max_s)
        self.quiet_hours = settings.quiet_hours
        self._settings = settings
        self._clock = clock
        self._client = httpx.Client(timeout=settings.timeout_s, headers={"User-Agent": "citywatch"})

    def start(self) -> None:
        """Nothing to open: the HTTP client connects on the first request."""

    def incident_messages(self, incident: StoredIncident) -> list[Message]:
        body = {"event": "incident", "incident": incident_payload(incident)}
        return [Message(self.name, f"{incident.id}-{self.name}", self.name, body, incident_id=incident.id)]

    def status_messages(self, change: StateChange) -> list[Message]:
        return []

    def send(self, message: Message) -> None:
        body = json.dumps(message.body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "X-Citywatch-Event": message.body["event"],
            "X-Citywatch-Delivery": message.key,
            "X-Citywatch-Timestamp": timestamp,
            "X-Citywatch-Signature": sign(self._settings.secret, timestamp, body),
        }
        try:
            response = self._client.post(self._settings.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(
                f"no answer within {self._settings.timeout_s:g} s ({type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        raise DeliveryError(
            f"HTTP {response.status_code}", permanent=not is_retryable_status(response.status_code)
        )

    def close(self, timeout: float) -> list[Message]:
        self._client.close()
        return []
