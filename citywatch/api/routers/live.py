"""`/api/live`: a WebSocket that pushes new incidents and camera state changes as JSON.

Messages are those of the pipeline's LiveHub (citywatch.notifiers.live): first the current state
of every camera, then {"event": "incident" | "camera_state", "data": {...}} as they happen. Any
role may listen; the credential is the session cookie (browsers) or an `Authorization: Bearer`
header (other clients), checked once when the socket opens. Without a credential the socket is
closed with 1008 (policy violation); without a pipeline in this process (`serve --no-pipeline`)
with 1013 (try again later).
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
    if context.supervisor is None:
        await websocket.close(status.WS_1013_TRY_AGAIN_LATER, "no pipeline runs in this process")
        return
    await websocket.accept()
    try:
        async with aclosing(context.supervisor.live.subscribe()) as messages:
            async for message in messages:
                await websocket.send_json(message)
    except WebSocketDisconnect:
        pass
