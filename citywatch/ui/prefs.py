"""Per-user dashboard preferences kept in the users table: the language."""

from __future__ import annotations

from sqlalchemy import select, update

from citywatch.incidents.schema import UserRow
from citywatch.incidents.store import IncidentStore
from citywatch.ui.i18n import LANGUAGES, Language


def user_language(store: IncidentStore, user_id: int) -> str | None:
    query = select(UserRow.ui_language).where(UserRow.id == user_id)
    return store.read("read a user's language", lambda session: session.scalar(query))


def set_user_language(store: IncidentStore, user_id: int, language: Language) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    statement = update(UserRow).where(UserRow.id == user_id).values(ui_language=language)
    store.write("store a user's language", lambda session: session.execute(statement))
