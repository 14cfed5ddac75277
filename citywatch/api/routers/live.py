"""`/api/live`: a WebSocket that pushes new incidents and camera state changes as JSON.

Messages are those of the context's LiveHub (citywatch.notifiers.live): first the current state
of every camera, then {"event": "incident" | "camera_state", "data": {...}} as they happen. The
hub is the pipeline's when it runs in this process, else one fed from the store about once a
second (citywatch.api.store_feed), so `serve --no-pipeline` pushes what another process stores.
Any role may listen; the credential is the session cookie (browsers) or an `Authorization:
Bearer` header (other clients), checked once when the socket opens. Without a valid credential
the socket is closed with 1008 (policy violation).
"""

from contextlib import aclosing

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from citywatch.api.auth import SESSION_COOKIE
from citywatch.incidents.users import Role

router = APIRouter(tags=["live"])


@router.websocket("/live")
async def live(websocket: WebSocket) -> None:
    context = websocket.app.state.context
    authorization = websocket.headers.get("authorization", "")
    token = authorization.removeprefix("Bearer ").strip() or websocket.cookies.get(SESSION_COOKIE, "")
    principal = await run_in_threadpool(context.users.principal, token) if token else None
    if principal is None or not principal.role.allows(Role.VIEWER):
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "not authenticated")
        return
    await websocket.accept()
    try:
        async with aclosing(context.live.subscribe()) as messages:
            async for message in messages:
                await websocket.send_json(message)
    except WebSocketDisconnect:
        pass
