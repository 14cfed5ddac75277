"""Users and API tokens, for admins. Secrets go in (passwords) or out once (new tokens), never
into the audit log or an error."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status

from citywatch.api.auth import Admin, Context, client_address
from citywatch.api.schemas import NAME_PATTERN, TokenCreated, TokenIn, TokenOut, UserIn, UserOut, UserPatch
from citywatch.incidents.users import UserError

router = APIRouter(tags=["users"])

UserName = Annotated[str, Path(pattern=NAME_PATTERN)]
_CONFLICT = {409: {"description": "The name is taken"}}
_NOT_FOUND = {404: {"description": "No such user or token"}}


@router.get("/users")
def list_users(principal: Admin, context: Context) -> list[UserOut]:
    return [UserOut.of(user) for user in context.users.users()]


@router.post("/users", status_code=status.HTTP_201_CREATED, responses=_CONFLICT)
def add_user(body: UserIn, principal: Admin, context: Context, request: Request) -> UserOut:
    try:
        user = context.users.add_user(body.name, body.role, body.password)
    except UserError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    context.audit.record(
        principal.actor, "user.add", f"user:{user.name}", client_address(request), {"role": user.role.value}
    )
    return UserOut.of(user)


@router.patch("/users/{name}", responses=_NOT_FOUND)
def update_user(
    name: UserName, body: UserPatch, principal: Admin, context: Context, request: Request
) -> UserOut:
    """Change role, password or disabled; a new password or disabling ends the user's sessions."""
    try:
        user = context.users.update_user(name, role=body.role, password=body.password, disabled=body.disabled)
    except UserError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    changed = sorted(body.model_dump(exclude_none=True))  # the names of the fields, never the password
    context.audit.record(
        principal.actor, "user.update", f"user:{name}", client_address(request), {"changed": changed}
    )
    return UserOut.of(user)


@router.get("/tokens")
def list_tokens(principal: Admin, context: Context) -> list[TokenOut]:
    return [TokenOut.of(token) for token in context.users.tokens()]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, responses=_CONFLICT)
def create_token(body: TokenIn, principal: Admin, context: Context, request: Request) -> TokenCreated:
    """A token for a machine (NVR, VMS, Prometheus): send it as `Authorization: Bearer <token>`."""
    try:
        token, secret = context.users.create_token(body.name, body.role, principal.actor)
    except UserError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    context.audit.record(
        principal.actor,
        "token.create",
        f"token:{token.name}",
        client_address(request),
        {"role": token.role.value},
    )
    return TokenCreated(**TokenOut.of(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", responses=_NOT_FOUND)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: Admin, context: Context, request: Request
) -> TokenOut:
    try:
        token = context.users.revoke_token(token_id)
    except UserError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    context.audit.record(principal.actor, "token.revoke", f"token:{token.name}", client_address(request))
    return TokenOut.of(token)
