"""A yes/no question before anything that changes an incident: one click plus one confirmation."""

from __future__ import annotations

from nicegui import ui

from citywatch.ui.session import UiSession


async def confirm(session: UiSession, question: str) -> bool:
    with ui.dialog() as dialog, ui.card().classes("min-w-[360px]"):
        ui.label(question).classes("text-lg")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button(session.t("action.cancel"), on_click=lambda: dialog.submit(False)).props(
                "flat no-caps"
            ).props("data-test=confirm-no")
            ui.button(session.t("action.confirm"), on_click=lambda: dialog.submit(True)).props(
                "no-caps color=primary"
            ).props("data-test=confirm-yes")
    answer = await dialog
    dialog.delete()
    return bool(answer)
