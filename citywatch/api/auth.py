"""Who is asking, and may they: bearer tokens (login sessions and API tokens) or the session
cookie set at login, checked against the role an endpoint needs.

401 when there is no valid credential, 403 when the role is too low. The answer never says
whether a token existed, expired or was revoked, and never echoes it.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from citywatch.api.context import ApiContext
from citywatch.incidents.users import Principal, Role

SESSION_COOKIE = "citywatch_session"
_bearer = HTTPBearer(auto_error=False, description="A session token from /api/auth/login or an API token.")


def get_context(request: Request) -> ApiContext:
    return request.app.state.context


Context = Annotated[ApiContext, Depends(get_context)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_principal(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials is not None else request.cookies.get(SESSION_COOKIE)
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated", {"WWW-Authenticate": "Bearer"})
    principal = context.users.principal(token)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or expired credentials", {"WWW-Authenticate": "Bearer"}
        )
    request.state.credential = token  # incident actions check it again inside their transaction
    return principal


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through principals whose role is `role` or higher."""

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.role.allows(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs the {role.value} role")
        return principal

    return check


Authenticated = Annotated[Principal, Depends(current_principal)]
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
