"""The live hub: incidents and camera state changes, from pipeline threads to WebSocket clients.

`publish()` is called from any thread; each subscriber is an asyncio queue on its own event loop,
filled with `call_soon_threadsafe`. A client that reads too slowly loses its oldest messages, never
slows the pipeline nor the other clients. A new subscriber first gets the last state of every
camera, so a dashboard that (re)connects shows the current health at once.

Messages: {"event": "incident", "data": <incident payload>} and
{"event": "camera_state", "data": <camera status payload>} (see payloads).
"""

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False, slots=True)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]]
    dropped: int = field(default=0)

    def put(self, message: dict[str, Any]) -> None:
        """On the subscriber's loop: drop the oldest message when the queue is full."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)


class LiveHub:
    def __init__(self, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._subscribers: set[_Subscriber] = set()
        self._camera_states: dict[str, dict[str, Any]] = {}

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, message: dict[str, Any]) -> None:
        """Hand `message` to every subscriber; never blocks. Thread-safe."""
        with self._lock:
            if message["event"] == "camera_state":
                self._camera_states[message["data"]["camera_id"]] = message
            for subscriber in list(self._subscribers):
                try:
                    subscriber.loop.call_soon_threadsafe(subscriber.put, message)
                except RuntimeError:  # its event loop is closed: the client is gone
                    self._subscribers.discard(subscriber)

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        """Messages for one client, forever. Close it when the client leaves, e.g.
        `async with contextlib.aclosing(hub.subscribe()) as messages: async for m in messages: ...`."""
        subscriber = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(self._queue_size))
        with self._lock:
            self._subscribers.add(subscriber)
            for message in self._camera_states.values():
                subscriber.put(message)
        try:
            while True:
                yield await subscriber.queue.get()
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)
