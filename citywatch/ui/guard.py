"""The dashboard's sockets answer only to the browser that opened the page, while its session lasts.

NiceGUI delivers a socket.io `event` to whichever page its `client_id` names, from any socket, and
its server answers every Origin: anyone who learnt a page's client id could click its buttons
without logging in. `install_guard` wraps NiceGUI's handlers so that:

- a socket joins a page (`handshake`) only from the page's own origin and with the session cookie
  the page was opened with (pages opened without one, the login page, need none);
- every message (`event`, `javascript_response`, `ack`, `log`) comes from a socket that joined
  the page it names;
- before an event of a logged-in page runs, its session is checked as it is now (logged out,
  expired, the user disabled: the page goes to the login page instead, which says so and comes
  back to the same page and query after the new sign-in), and a watcher does the same for every
  open page every CHECK_EVERY_S seconds, so an idle page closes too. The page itself warns ahead
  of the session's end (components.alarms).

What an action may do is checked again where it is done (citywatch.services), with the role as
it is then.
"""

from __future__ import annotations

import asyncio
import logging
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote

from nicegui import Client, app, core
from socketio.exceptions import ConnectionRefusedError

from citywatch.services.permissions import SESSION_COOKIE
from citywatch.ui.services import services

log = logging.getLogger(__name__)

CHECK_EVERY_S = 3.0
"""How often open pages check that their session still stands for someone."""


PUBLIC_PATHS = frozenset({"/login"})
"""Pages that act for nobody, whatever cookie they were opened with: the login page, also when the
browser still holds an ended session's cookie (the guard would send it to itself) or signs in again
before the session ends (the API replaces the cookie under it)."""


def page_token(client: Client) -> str | None:
    """The session cookie `client`'s page was opened with; None for pages opened without one and for
    PUBLIC_PATHS."""
    try:
        if client.request.url.path in PUBLIC_PATHS:
            return None
        return client.request.cookies.get(SESSION_COOKIE) or None
    except (AttributeError, RuntimeError):  # a client built without a request (error pages)
        return None


def _socket_token(environ: dict[str, Any] | None) -> str | None:
    header = (environ or {}).get("HTTP_COOKIE", "")
    try:
        morsel = SimpleCookie(header).get(SESSION_COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None else None


def session_ended(client: Client) -> bool:
    """True when the page was opened logged in and that session no longer stands for anyone."""
    token = page_token(client)
    return token is not None and services().context.authority.caller(token, "dashboard") is None


def send_to_login(client: Client) -> None:
    """Leave the page for the login page, which says that the sign-in ended and comes back to the
    same page and query afterwards (dashboard.js `citywatchSessionEnded`, with the page's language)."""
    try:
        url = client.request.url
        target = url.path + (f"?{url.query}" if url.query else "")
    except (AttributeError, RuntimeError):
        target = "/"
    fallback = f"window.location.href = '/login?ended=1&next={quote(target, safe='')}'"
    client.run_javascript(
        f"if (typeof citywatchSessionEnded === 'function') citywatchSessionEnded(); else {fallback}"
    )


def install_guard() -> None:
    sio = core.sio
    sio.eio.cors_allowed_origins = None  # python-engineio: the request's own origin only
    handlers = sio.handlers["/"]
    connect, handshake, event = handlers["connect"], handlers["handshake"], handlers["event"]

    def may_join(client_id: str, environ: dict[str, Any] | None) -> bool:
        client = Client.instances.get(client_id)
        expected = page_token(client) if client is not None else None
        if expected is not None and _socket_token(environ) != expected:
            log.warning("refused a socket for page %s: not the session it was opened with", client_id)
            return False
        return True

    async def guarded_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if query.get("implicit_handshake") == ["true"] and not may_join(
            query.get("client_id", [""])[0], environ
        ):
            raise ConnectionRefusedError("not the session this page was opened with")
        await connect(sid, environ, auth)

    async def guarded_handshake(sid: str, data: dict[str, Any]) -> bool:
        if not may_join(data.get("client_id", ""), sio.get_environ(sid)):
            return False
        return await handshake(sid, data)

    def joined(sid: str, msg: dict[str, Any]) -> Client | None:
        client = Client.instances.get(msg.get("client_id", "")) if isinstance(msg, dict) else None
        if client is None or client.id not in sio.rooms(sid):
            return None
        return client

    def guarded_event(sid: str, msg: dict[str, Any]) -> None:
        client = joined(sid, msg)
        if client is None:
            log.warning("dropped an event from a socket that did not join its page")
            return
        if session_ended(client):
            send_to_login(client)
            return
        event(sid, msg)

    def only_joined(name: str) -> None:
        original = handlers[name]

        def guarded(sid: str, msg: dict[str, Any]) -> None:
            if joined(sid, msg) is not None:
                original(sid, msg)

        sio.on(name, guarded)

    sio.on("connect", guarded_connect)
    sio.on("handshake", guarded_handshake)
    sio.on("event", guarded_event)
    for name in ("javascript_response", "ack", "log"):
        only_joined(name)
    app.on_startup(_watch_sessions)


def _ended(clients: list[Client]) -> list[Client]:
    return [c for c in clients if session_ended(c)]


async def _watch_sessions() -> None:
    """Every CHECK_EVERY_S, each open logged-in page whose session ended goes to the login page."""
    while True:
        await asyncio.sleep(CHECK_EVERY_S)
        clients = [c for c in list(Client.instances.values()) if c.has_socket_connection and page_token(c)]
        if not clients:
            continue
        try:
            ended = await asyncio.to_thread(_ended, clients)
        except Exception:  # the database is away: pages stay; their actions are refused anyway
            log.warning("could not check the open pages' sessions", exc_info=True)
            continue
        for client in ended:
            send_to_login(client)
