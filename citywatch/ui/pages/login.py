"""Login with a platform user. The browser signs in through POST /api/auth/login itself, so it
holds the API's HttpOnly session cookie (the password never passes through page state); the page
only learns the answer's status and goes on, or says why not."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.domain.languages import LANGUAGES, Language
from citywatch.ui.i18n import language_of, t
from citywatch.ui.services import services
from citywatch.ui.session import session_of

_MESSAGES = {401: "login.failed", 422: "login.failed", 429: "login.too_many"}


def safe_next(target: str | None) -> str:
    """Only a path of this site (no //host, no scheme): the login must not send anyone elsewhere.

    Browsers drop tabs and newlines from a URL and read `\\` as `/`, so `/<tab>/host` would become
    `//host`: any control character, whitespace or backslash refuses the target."""
    if not target or any(c.isspace() or not c.isprintable() or c == "\\" for c in target):
        return "/"
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return target


def login_page(
    request: Request,
    next: str = "/",
    lang: str | None = None,
    again: bool = False,
    ended: bool = False,
) -> RedirectResponse | None:
    """`again`: a new sign-in before the session ends (the page's expiry warning), so a logged-in
    user gets the form too; `ended`: the page's session ended (the guard sent it here). Either way
    the sign-in comes back to `next`, the page and query the user was on."""
    target = safe_next(next)
    session = session_of(request)
    if session is not None and not again:
        return RedirectResponse(target, status_code=303)
    language: Language = language_of(
        lang, session.lang if session is not None else services().settings.default_language
    )
    ui.page_title(t("login.title", language))
    with ui.column().classes("absolute-center items-center gap-4"):
        ui.label(t("app.title", language)).classes("text-4xl font-bold text-slate-800")
        with ui.card().classes("w-96 p-6 gap-3"):
            ui.label(t("login.title", language)).classes("text-xl")
            if again or ended:
                ui.label(t("login.again" if session is not None else "login.ended", language)).classes(
                    "text-amber-900 bg-amber-100 rounded p-2"
                ).props("data-test=login-note")
            user = ui.input(
                t("login.username", language), value=session.caller.actor if session is not None else ""
            ).props("outlined data-test=username" + ("" if session is not None else " autofocus"))
            user.classes("w-full")
            password = ui.input(t("login.password", language), password=True).props(
                "outlined data-test=password" + (" autofocus" if session is not None else "")
            )
            password.classes("w-full")
            error = ui.label().classes("text-red-700").props("data-test=login-error")
            submit = f"() => citywatchLogin({json.dumps(user.html_id)}, {json.dumps(password.html_id)})"
            ui.button(t("login.submit", language)).props("no-caps data-test=login").classes("w-full").on(
                "click", js_handler=submit
            )
            password.on("keydown.enter", js_handler=submit)
        with ui.row().classes("gap-1"):
            for other in LANGUAGES:
                ui.link(
                    "ไทย" if other == "th" else "English",
                    f"/login?lang={other}&next={quote(target, safe='')}"
                    + ("&again=1" if again else "")
                    + ("&ended=1" if ended else ""),
                ).classes("text-sm" + (" font-bold" if other == language else ""))

    def answered(event: Any) -> None:
        status = int(event.args[0] if isinstance(event.args, list) else event.args)
        if status == 200:
            ui.navigate.to(target)
            return
        error.set_text(t(_MESSAGES.get(status, "login.error"), language))

    ui.on("citywatch_login", answered)
    return None
