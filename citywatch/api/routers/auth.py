"""Login and logout for people: a session token (bearer) and the same token as an HttpOnly cookie
(services.accounts checks, limits and audits)."""

import math

from fastapi import APIRouter, HTTPException, Request, Response, status

from citywatch.api.auth import Authenticated, Context, client_address
from citywatch.api.schemas import LoginIn, LoginOut, Me
from citywatch.services.accounts import LoginRefused, TooManyFailures
from citywatch.services.permissions import SESSION_COOKIE

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    responses={
        401: {"description": "Wrong user name or password"},
        429: {"description": "Too many failures"},
    },
)
def login(body: LoginIn, request: Request, response: Response, context: Context) -> LoginOut:
    try:
        login = context.accounts.login(body.username, body.password, client_address(request))
    except TooManyFailures as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, str(exc), {"Retry-After": str(math.ceil(exc.retry_after_s))}
        ) from None
    except LoginRefused as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    response.set_cookie(
        SESSION_COOKIE,
        login.token,
        max_age=int(context.settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return LoginOut(
        token=login.token, expires_at=login.expires_at, user=login.user.name, role=login.user.role
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(response: Response, caller: Authenticated, context: Context) -> None:
    """End the session of the token (or cookie) this request carries."""
    context.accounts.logout(caller)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
def me(caller: Authenticated) -> Me:
    return Me(actor=caller.actor, role=caller.role)
