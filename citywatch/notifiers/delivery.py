"""Per-channel delivery: one worker thread per channel, retries with exponential backoff, dead letters.

Each channel has its own thread, so a receiver that hangs delays only its own messages (by its
timeout per try), never the event sink nor the other channels. A failed try is not retried in
place: the message goes back on the channel's schedule with its backoff, and messages that are
due meanwhile go first.
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from citywatch.config import QuietHours
from citywatch.domain.stored_incident import StoredIncident
from citywatch.video.state import StateChange

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Message:
    """One thing to send on one channel. `key` stays the same across tries, so receivers can drop
    a repeat (a try whose answer was lost); `target` is where it goes (webhook name, LINE id, topic)."""

    channel: str
    key: str
    target: str
    body: dict[str, Any]
    incident_id: str | None = None
    retain: bool = False


class DeliveryError(Exception):
    """A try failed; `permanent` when trying again cannot help (e.g. HTTP 400, 401, 404)."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    backoff_initial_s: float
    backoff_max_s: float

    def delay(self, attempts: int) -> float:
        """Wait after the `attempts`-th failed try."""
        return min(self.backoff_initial_s * 2 ** (attempts - 1), self.backoff_max_s)


class Channel(Protocol):
    name: str
    retry: RetryPolicy
    quiet_hours: QuietHours | None

    def start(self) -> None: ...

    def incident_messages(self, incident: StoredIncident) -> list[Message]: ...

    def status_messages(self, change: StateChange) -> list[Message]: ...

    def send(self, message: Message) -> None:
        """Deliver or raise DeliveryError; called on the channel's own thread only."""

    def close(self, timeout: float) -> list[Message]:
        """Release connections; returns messages handed over but not confirmed (they become dead letters)."""


DeadLetterSink = Callable[[Message, int, str], None]
"""(message, tries made, last error) for a message given up on."""


@dataclass(slots=True)
class DeliveryStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(order=True, slots=True)
class _Scheduled:
    due: float
    seq: int
    message: Message = field(compare=False)
    attempts: int = field(default=0, compare=False)


class DeliveryWorker:
    """The thread that sends one channel's messages in due order."""

    def __init__(
        self, channel: Channel, dead_letter: DeadLetterSink, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.channel = channel
        self.stats = DeliveryStats()
        self._dead_letter = dead_letter
        self._clock = clock
        self._heap: list[_Scheduled] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"notify-{channel.name}", daemon=True)

    def put(self, messages: list[Message]) -> None:
        """Queue messages for sending now; never blocks (beyond a short lock)."""
        with self._cond:
            for message in messages:
                heapq.heappush(self._heap, _Scheduled(self._clock(), next(self._seq), message))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def start(self) -> None:
        self._thread.start()

    @property
    def thread_alive(self) -> bool:
        """False when the delivery thread died before it was told to stop."""
        with self._cond:
            stopping = self._deadline is not None
        return stopping or self._thread.is_alive()

    def stop(self, grace_s: float) -> None:
        """Try what is queued once more (backoff waits skipped) for up to `grace_s`, then dead-letter
        the rest and whatever the channel still holds unconfirmed."""
        with self._cond:
            self._deadline = self._clock() + grace_s
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(grace_s + 60)

    def _run(self) -> None:
        while (item := self._next()) is not None:
            self._attempt(item)
        with self._cond:
            left, self._heap = self._heap, []
        for item in left:
            self._give_up(item.message, item.attempts, "not delivered before shutdown")
        remaining = max(0.0, (self._deadline or 0) - self._clock())
        for message in self.channel.close(remaining):
            self._give_up(message, 1, "not confirmed before shutdown")

    def _next(self) -> _Scheduled | None:
        with self._cond:
            while True:
                now = self._clock()
                stopping = self._deadline is not None
                if stopping and (not self._heap or now >= self._deadline):
                    return None
                if self._heap and (stopping or self._heap[0].due <= now):
                    return heapq.heappop(self._heap)
                self._cond.wait(self._heap[0].due - now if self._heap else None)

    def _attempt(self, item: _Scheduled) -> None:
        item.attempts += 1
        message = item.message
        try:
            self.channel.send(message)
        except DeliveryError as exc:
            if exc.permanent or item.attempts >= self.channel.retry.max_attempts:
                self._give_up(message, item.attempts, str(exc))
                return
            delay = self.channel.retry.delay(item.attempts)
            log.warning(
                "%s: try %d of %s to %s failed (%s); next in %.1f s",
                message.channel,
                item.attempts,
                message.key,
                message.target,
                exc,
                delay,
            )
            self.stats.retried += 1
            with self._cond:
                item.due = self._clock() + delay
                heapq.heappush(self._heap, item)
            return
        except Exception as exc:  # a bug in a channel must not kill its thread
            log.exception("%s: sending %s failed unexpectedly", message.channel, message.key)
            self._give_up(message, item.attempts, f"{type(exc).__name__}: {exc}")
            return
        self.stats.delivered += 1

    def _give_up(self, message: Message, attempts: int, error: str) -> None:
        self.stats.dead += 1
        log.error(
            "%s: gave up on %s to %s after %d tries: %s",
            message.channel,
            message.key,
            message.target,
            attempts,
            error,
        )
        self._dead_letter(message, attempts, error)
