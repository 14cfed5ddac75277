"""Feeding a page from the hubs (the live hub of new incidents and camera states, and the
dashboard's own hub of operator changes) for as long as the page is open.

Messages are handed over in batches: a burst (a camera coming back with a backlog, a poll of the
store that finds twenty rows) costs one redraw of the page, not twenty, so the page keeps up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

from nicegui import background_tasks, ui

from citywatch.notifiers.live import LiveHub

log = logging.getLogger(__name__)
Message = dict[str, Any]
BATCH_WINDOW_S = 0.05


def listen(handler: Callable[[list[Message]], None], *hubs: LiveHub) -> None:
    """Call `handler` with the messages of `hubs` that arrived within BATCH_WINDOW_S of each other,
    in the page's context, until the page is closed."""
    client = ui.context.client
    pending: list[Message] = []

    async def flush() -> None:
        await asyncio.sleep(BATCH_WINDOW_S)
        batch = pending[:]
        pending.clear()
        try:
            handler(batch)
        except Exception:  # one bad batch must not end the page's updates
            log.exception("dashboard: handling %d live messages failed", len(batch))

    async def pump(hub: LiveHub) -> None:
        async with aclosing(hub.subscribe()) as messages:
            async for message in messages:
                pending.append(message)
                if len(pending) == 1:
                    background_tasks.create(flush(), name="citywatch-flush", context=client)

    tasks = [background_tasks.create(pump(hub), name="citywatch-hub", context=client) for hub in hubs]
    client.on_delete(lambda: [task.cancel() for task in tasks])
