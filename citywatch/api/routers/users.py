"""Users and API tokens, for admins (services.accounts checks and audits). Secrets go in
(passwords) or out once (new tokens), never into the audit log or an error."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from citywatch.api.auth import Context, may
from citywatch.api.schemas import NAME_PATTERN, TokenCreated, TokenIn, TokenOut, UserIn, UserOut, UserPatch
from citywatch.services.permissions import Caller, Task
from citywatch.storage.users import UserError

router = APIRouter(tags=["users"])

Admin = Annotated[Caller, may(Task.MANAGE_USERS)]
UserName = Annotated[str, Path(pattern=NAME_PATTERN)]
_CONFLICT = {409: {"description": "The name is taken"}}
_NOT_FOUND = {404: {"description": "No such user or token"}}


@router.get("/users")
def list_users(caller: Admin, context: Context) -> list[UserOut]:
    return [UserOut.of(user) for user in context.accounts.users(caller)]


@router.post("/users", status_code=status.HTTP_201_CREATED, responses=_CONFLICT)
def add_user(body: UserIn, caller: Admin, context: Context) -> UserOut:
    try:
        user = context.accounts.add_user(caller, body.name, body.role, body.password)
    except UserError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return UserOut.of(user)


@router.patch("/users/{name}", responses=_NOT_FOUND)
def update_user(name: UserName, body: UserPatch, caller: Admin, context: Context) -> UserOut:
    """Change role, password or disabled; a new password or disabling ends the user's sessions."""
    try:
        user = context.accounts.update_user(
            caller, name, role=body.role, password=body.password, disabled=body.disabled
        )
    except UserError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return UserOut.of(user)


@router.get("/tokens")
def list_tokens(caller: Admin, context: Context) -> list[TokenOut]:
    return [TokenOut.of(token) for token in context.accounts.tokens(caller)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, responses=_CONFLICT)
def create_token(body: TokenIn, caller: Admin, context: Context) -> TokenCreated:
    """A token for a machine (NVR, VMS, Prometheus): send it as `Authorization: Bearer <token>`."""
    try:
        token, secret = context.accounts.create_token(caller, body.name, body.role)
    except UserError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return TokenCreated(**TokenOut.of(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", responses=_NOT_FOUND)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], caller: Admin, context: Context
) -> TokenOut:
    try:
        token = context.accounts.revoke_token(caller, token_id)
    except UserError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return TokenOut.of(token)
