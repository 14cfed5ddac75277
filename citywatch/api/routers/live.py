"""`/api/live`: a WebSocket that pushes new incidents and camera state changes as JSON.

Messages are those of the context's LiveHub (citywatch.notifiers.live): first the current state
of every camera, then {"event": "incident" | "camera_state", "data": {...}} as they happen. The
hub is the pipeline's when it runs in this process, else one fed from the store about once a
second (citywatch.services.store_feed), so `serve --no-pipeline` pushes what another process stores.
Any role may listen; the credential is the session cookie (browsers) or an `Authorization:
Bearer` header (other clients), checked when the socket opens, before every message and at least
every RECHECK_S seconds: without a valid credential (never, or no longer: logged out, expired,
revoked, the user disabled) the socket is closed with 1008 (policy violation).
"""

import asyncio
from contextlib import aclosing, suppress

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from citywatch.services.context import AppContext
from citywatch.services.permissions import SESSION_COOKIE, Task

router = APIRouter(tags=["live"])

RECHECK_S = 3.0
"""The longest a socket goes on after its credential stopped standing for anyone."""


async def _valid(context: AppContext, token: str) -> bool:
    caller = await run_in_threadpool(context.authority.caller, token, "api") if token else None
    return caller is not None and caller.may(Task.VIEW)


@router.websocket("/live")
async def live(websocket: WebSocket) -> None:
    context = websocket.app.state.context
    authorization = websocket.headers.get("authorization", "")
    token = authorization.removeprefix("Bearer ").strip() or websocket.cookies.get(SESSION_COOKIE, "")
    if not await _valid(context, token):
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "not authenticated")
        return
    await websocket.accept()

    async def forward() -> None:
        async with aclosing(context.live.subscribe()) as messages:
            async for message in messages:
                if not await _valid(context, token):
                    return
                await websocket.send_json(message)

    async def watch() -> None:
        while await _valid(context, token):
            await asyncio.sleep(RECHECK_S)

    tasks = [asyncio.create_task(forward()), asyncio.create_task(watch())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, WebSocketDisconnect):
                await task
    with suppress(RuntimeError, WebSocketDisconnect):  # the client may have gone already
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "session ended")
