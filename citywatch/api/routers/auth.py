"""Login and logout for people: a session token (bearer) and the same token as an HttpOnly cookie."""

import logging
import math

from fastapi import APIRouter, HTTPException, Request, Response, status

from citywatch.api.auth import SESSION_COOKIE, Authenticated, Context, client_address
from citywatch.api.schemas import LoginIn, LoginOut, Me

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    responses={
        401: {"description": "Wrong user name or password"},
        429: {"description": "Too many failures"},
    },
)
def login(body: LoginIn, request: Request, response: Response, context: Context) -> LoginOut:
    address = client_address(request)
    wait = context.limiter.retry_after(body.username, address)
    if wait > 0:
        log.warning("login of %r from %s refused: too many failures", body.username, address)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed logins; try again later",
            {"Retry-After": str(math.ceil(wait))},
        )
    user = context.users.authenticate(body.username, body.password)
    if user is None:
        context.limiter.failed(body.username, address)
        context.audit.record(body.username, "login.failed", ip=address)
        log.warning("failed login of %r from %s", body.username, address)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password")
    context.limiter.succeeded(body.username, address)
    token, expires_at = context.users.start_session(user)
    context.audit.record(user.name, "login", ip=address)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(context.settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return LoginOut(token=token, expires_at=expires_at, user=user.name, role=user.role)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, principal: Authenticated, context: Context) -> None:
    """End the session of the token (or cookie) this request carries."""
    authorization = request.headers.get("authorization", "")
    token = authorization.removeprefix("Bearer ").strip() or request.cookies.get(SESSION_COOKIE, "")
    context.users.end_session(token)
    context.audit.record(principal.actor, "logout", ip=client_address(request))
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
def me(principal: Authenticated) -> Me:
    return Me(actor=principal.actor, role=principal.role)
