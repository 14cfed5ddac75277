"""Who is asking, and may they: bearer tokens (login sessions and API tokens) or the session
cookie set at login, as a `Caller` (citywatch.services.permissions), checked against the least
role of what an endpoint does (`may`, from the one table `LEAST_ROLE`). The services check it
again where they act.

401 when there is no valid credential, 403 when the role is too low. The answer never says
whether a token existed, expired or was revoked, and never echoes it.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from citywatch.services.context import AppContext
from citywatch.services.permissions import (
    SESSION_COOKIE,
    ActionRefused,
    Caller,
    Permission,
    SessionEnded,
    Task,
    permit,
)

_bearer = HTTPBearer(auto_error=False, description="A session token from /api/auth/login or an API token.")


def get_context(request: Request) -> AppContext:
    return request.app.state.context


Context = Annotated[AppContext, Depends(get_context)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_caller(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    token = credentials.credentials if credentials is not None else request.cookies.get(SESSION_COOKIE)
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated", {"WWW-Authenticate": "Bearer"})
    caller = context.authority.caller(token, "api", client_address(request))
    if caller is None:
        raise _expired()
    return caller


def _expired() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, "invalid or expired credentials", {"WWW-Authenticate": "Bearer"}
    )


@contextmanager
def refusals_as_http() -> Iterator[None]:
    """A service's refusal of the caller as the route's answer: a session that ended since the
    request was let in is a 401 (as if it had ended before), a role too low for the action a 403."""
    try:
        yield
    except SessionEnded:
        raise _expired() from None
    except ActionRefused as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None


def permitted(permission: Permission) -> Callable[[Caller], Caller]:
    """A dependency that lets through callers whose role allows `permission`."""

    def check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        try:
            permit(caller, permission)
        except ActionRefused as exc:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
        return caller

    return check


def may(permission: Permission) -> Any:
    """`caller: Annotated[Caller, may(Task.X)]`: a route's check of `permission`."""
    return Depends(permitted(permission))


Authenticated = Annotated[Caller, Depends(current_caller)]
Viewer = Annotated[Caller, may(Task.VIEW)]
