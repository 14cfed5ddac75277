"""Who looks at a dashboard page: the API's session cookie (set by POST /api/auth/login) checked
like every API request, with the user's language. The same cookie authenticates the snapshots
and clips the pages load from /api."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.api.auth import SESSION_COOKIE
from citywatch.incidents.users import Principal, Role
from citywatch.ui.i18n import Language, format_time, language_of, t
from citywatch.ui.prefs import user_language
from citywatch.ui.services import services


@dataclass(frozen=True)
class UiSession:
    principal: Principal
    """Who opened the page (for what it shows); actions check `token` again, as it is then."""
    lang: Language
    token: str
    """The session cookie the page was opened with."""

    def t(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def can(self, role: Role) -> bool:
        return self.principal.role.allows(role)

    def time(self, moment: datetime, *, long: bool = False) -> str:
        return format_time(moment, self.lang, services().context.timezone, long=long)


def session_of(request: Request) -> UiSession | None:
    """The logged-in user of this request, or None (no cookie, expired, a machine's API token)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    context = services().context
    principal = context.users.principal(token)
    if principal is None or principal.user_id is None:
        return None
    stored = user_language(context.store, principal.user_id)
    return UiSession(principal, language_of(stored, services().settings.default_language), token)


def login_url(request: Request) -> str:
    """The login page, coming back to the page of `request` afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def to_login(request: Request) -> RedirectResponse:
    """A redirect to the login page that comes back to this page afterwards."""
    return RedirectResponse(login_url(request), status_code=303)
