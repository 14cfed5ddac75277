"""Who looks at a dashboard page: the API's session cookie (set by POST /api/auth/login) checked
like every API request, as the `Caller` the pages hand to the services, with the user's language.
The same cookie authenticates the snapshots and clips the pages load from /api."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.domain.languages import Language
from citywatch.services.permissions import SESSION_COOKIE, ActionRefused, Caller, Permission, SessionEnded
from citywatch.ui.i18n import format_time, language_of, t
from citywatch.ui.services import services


@dataclass(frozen=True)
class UiSession:
    caller: Caller
    """Who opened the page, with the session cookie it was opened with: what the page shows is for
    that role; the services check the cookie again, as it is then, before they change anything."""
    lang: Language

    @property
    def expires_at(self) -> datetime | None:
        """When the login session behind the page ends (api.session_hours after the login): the
        page warns before it (components.alarms) and the guard sends it to the login page after."""
        return self.caller.principal.expires_at

    def t(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def may(self, permission: Permission) -> bool:
        return self.caller.may(permission)

    def time(self, moment: datetime, *, long: bool = False) -> str:
        return format_time(moment, self.lang, services().context.timezone, long=long)

    def refused(self, refusal: SessionEnded | ActionRefused) -> None:
        """What a page does when a service refuses its caller: a session that ended meanwhile goes
        to the login page (coming back to this page), a role too low is told so."""
        if isinstance(refusal, SessionEnded):
            ui.navigate.to(login_url(ui.context.client.request))
        else:
            ui.notify(self.t("common.forbidden"), type="negative")


def session_of(request: Request) -> UiSession | None:
    """The logged-in user of this request, or None (no cookie, expired, a machine's API token)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    context = services().context
    caller = context.authority.caller(token, "dashboard")
    if caller is None or caller.principal.user_id is None:
        return None
    stored = context.accounts.language(caller)
    return UiSession(caller, language_of(stored, services().settings.default_language))


def login_url(request: Request) -> str:
    """The login page, coming back to the page of `request` afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def to_login(request: Request) -> RedirectResponse:
    """A redirect to the login page that comes back to this page afterwards."""
    return RedirectResponse(login_url(request), status_code=303)
