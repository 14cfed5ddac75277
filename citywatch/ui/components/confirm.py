"""The questions asked before anything changes an incident (one click plus one confirmation): a
yes/no question, and the dialogs that ask what an action needs (a note, the assignee, how and why
it is closed, why it is reopened). Each names the incident as the operator knows it (type, camera,
local time; never its id), checks the answer with the domain's rules before it is sent, and says
what is missing, as the services' refusals are said, in the user's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from nicegui import events, ui

from citywatch.domain.lifecycle import (
    CLOSE_REASONS,
    CLOSING_ACTIONS,
    Action,
    CloseReason,
    LifecycleError,
    Problem,
    check_assignee,
    check_closing,
    check_note,
)
from citywatch.domain.stored_incident import StoredIncident
from citywatch.services.incident_actions import ActionInput
from citywatch.ui.session import UiSession

T = TypeVar("T")

ACTION_STYLE = {
    Action.ACKNOWLEDGE: ("done", "orange-8"),
    Action.ASSIGN: ("person_add", "blue-8"),
    Action.RESOLVE: ("task_alt", "green-8"),
    Action.FALSE_ALARM: ("block", "grey-8"),
    Action.REOPEN: ("restart_alt", "deep-orange-8"),
    Action.NOTE: ("edit_note", "slate-7"),
    Action.LOCK: ("lock", "purple-8"),
    Action.UNLOCK: ("lock_open", "purple-8"),
}
"""Each action's icon and colour (Quasar), on its button, in the closing dialog and in the history."""


def incident_name(session: UiSession, incident: StoredIncident, camera: str) -> str:
    """'‘Fire / smoke’ at ‘Market’, 7 Dec 2026 21:14:03' in the user's language and local time."""
    return session.t(
        "confirm.incident",
        type=session.t(f"type.{incident.type.value}"),
        camera=camera,
        time=session.time(incident.started_at),
    )


def problem_text(session: UiSession, error: LifecycleError) -> str:
    """What stood in the way, in the user's language: the text of its problem, or (a problem with no
    name) its message after a translated prefix."""
    if error.problem is not None:
        return session.t(f"error.{error.problem.value}")
    return session.t("action.failed", reason=str(error))


async def confirm(session: UiSession, question: str) -> bool:
    return await _ask(session, question, lambda: lambda: True) is not None


async def ask_note(session: UiSession, question: str, label_key: str = "action.note_text") -> str | None:
    """A note (required), or None when cancelled."""

    def fields() -> Callable[[], str]:
        note = ui.textarea(session.t(label_key)).classes("w-full").props("autofocus data-test=note-text")

        def read() -> str:
            check_note(note.value, "a note is required")
            return note.value.strip()

        return read

    return await _ask(session, question, fields)


async def ask_assignee(session: UiSession, question: str, users: list[str]) -> ActionInput | None:
    """Exactly one of a user (of `users`) or a unit (free text), or None when cancelled."""

    def fields() -> Callable[[], ActionInput]:
        user = (
            ui.select(users, label=session.t("action.assign_user"), clearable=True)
            .classes("w-full")
            .props("data-test=assign-user")
        )
        unit = ui.input(session.t("action.assign_unit")).classes("w-full").props("data-test=assign-unit")

        def read() -> ActionInput:
            chosen_user, chosen_unit = user.value or None, (unit.value or "").strip() or None
            check_assignee(chosen_user, chosen_unit)
            return ActionInput(user=chosen_user, unit=chosen_unit)

        return read

    return await _ask(session, question, fields)


async def ask_closing(session: UiSession, question: str) -> tuple[Action, ActionInput] | None:
    """How it ended (resolved or a false alarm) with a reason of that outcome and a note (required
    for `other`), or None when cancelled."""

    def fields() -> Callable[[], tuple[Action, ActionInput]]:
        ui.label(session.t("close.choose")).classes("text-gray-600")
        groups: dict[Action, ui.radio] = {}

        def only_one(event: events.ValueChangeEventArguments) -> None:
            if event.value is not None:
                for group in groups.values():
                    if group is not event.sender:
                        group.value = None

        with ui.row().classes("w-full no-wrap gap-3 items-stretch"):
            for action, status in CLOSING_ACTIONS.items():
                icon, color = ACTION_STYLE[action]
                with (
                    ui.column()
                    .classes("flex-1 gap-1 p-3 rounded-borders border")
                    .props(f"data-test=close-{action.value}")
                ):
                    with ui.row().classes("items-center gap-2 no-wrap"):
                        ui.icon(icon, color=color).classes("text-xl")
                        ui.label(session.t(f"status.{status.value}")).classes("text-base font-bold")
                    options = {r.value: session.t(f"reason.{r.value}") for r in CLOSE_REASONS[status]}
                    groups[action] = ui.radio(options, on_change=only_one).props("dense")
        note = ui.textarea(session.t("close.note")).classes("w-full").props("data-test=note-text")

        def read() -> tuple[Action, ActionInput]:
            chosen = [(action, group.value) for action, group in groups.items() if group.value is not None]
            if not chosen:
                raise LifecycleError("no reason chosen", Problem.REASON_MISSING)
            action, value = chosen[0]
            reason = check_closing(CLOSING_ACTIONS[action], CloseReason(value), note.value)
            return action, ActionInput(note=(note.value or "").strip() or None, reason=reason)

        return read

    return await _ask(session, question, fields, "close.confirm")


async def _ask(
    session: UiSession,
    question: str,
    fields: Callable[[], Callable[[], T]],
    confirm_key: str = "action.confirm",
) -> T | None:
    """A dialog: `question`, the fields `fields` draws (it returns what reads the answer from them,
    raising LifecycleError while something is missing: said under the fields, the dialog stays),
    Cancel and Confirm. The answer, or None when cancelled."""
    with ui.dialog() as dialog, ui.card().classes("min-w-[420px] max-w-[640px] gap-3"):
        ui.label(question).classes("text-lg").props("data-test=dialog-question")
        read = fields()
        error = ui.label().classes("text-negative").props("data-test=dialog-error")
        error.set_visibility(False)

        def submit() -> None:
            try:
                answer = read()
            except LifecycleError as exc:
                error.set_text(problem_text(session, exc))
                error.set_visibility(True)
            else:
                dialog.submit(answer)

        with ui.row().classes("w-full justify-end gap-2"):
            ui.button(session.t("action.cancel"), on_click=lambda: dialog.submit(None)).props(
                "flat no-caps data-test=confirm-no"
            )
            ui.button(session.t(confirm_key), on_click=submit).props(
                "no-caps color=primary data-test=confirm-yes"
            )
    answer = await dialog
    dialog.delete()
    return answer
