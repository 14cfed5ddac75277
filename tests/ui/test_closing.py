"""Closing and reopening in a real browser against a real `citywatch serve` (issue 20, finding 6):
one Close… button, apart from the everyday actions, asks resolved or false alarm and why (a note
for Other) and the reason is stored; a supervisor reopens, an operator is offered no reopen; the
assign dialog refuses both a user and a unit, and neither, in the user's language (Thai here), and
says the server's refusal in it too; every confirmation names the incident by its type, camera and
local time, never by its id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from dashboard_support import CAMERAS, Server, browser, click, login, wait_for, wait_text
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.languages import Language
from citywatch.domain.lifecycle import CLOSE_REASONS, CLOSING_ACTIONS, Action, CloseReason, Problem
from citywatch.domain.stored_incident import IncidentStatus
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.users import Role, UserDirectory
from citywatch.ui.i18n import EN, TEXTS, TH, format_time

PASSWORD = "correct horse battery staple"
BANGKOK = ZoneInfo("Asia/Bangkok")  # the test config's api.timezone (the default)
CAMERA_NAMES = {camera["id"]: camera["name"] for camera in CAMERAS}


@pytest.fixture(scope="module")
def users(server: Server) -> UserDirectory:
    """Beside the shared server's users: a supervisor, a Thai operator and an operator to assign to."""
    directory = UserDirectory(
        server.store, password_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    directory.add_user("chief", Role.SUPERVISOR, PASSWORD)
    somsak = directory.add_user("somsak", Role.OPERATOR, PASSWORD)
    directory.set_language(somsak.id, "th")
    directory.add_user("kanya", Role.OPERATOR, PASSWORD)
    return directory


@pytest.fixture
def driver() -> Iterator[WebDriver]:
    driver = browser(1366, 768)
    yield driver
    driver.quit()


def _name(server: Server, incident_id: str, lang: Language) -> str:
    """How a confirmation should name the incident: type, camera, local time."""
    incident = server.store.get(incident_id)
    assert incident is not None
    return TEXTS[lang]["confirm.incident"].format(
        type=TEXTS[lang][f"type.{incident.type.value}"],
        camera=CAMERA_NAMES[incident.camera_id],
        time=format_time(incident.started_at, lang, BANGKOK),
    )


def _question(driver: WebDriver, incident_id: str) -> str:
    text = wait_for(driver, "[data-test=dialog-question]").text
    assert incident_id[:8] not in text, text
    return text


def _radio(group: str, label: str) -> str:
    return f"[data-test=close-{group}] [role=radio][aria-label='{label}']"


def _checked(driver: WebDriver, css: str) -> bool:
    return driver.find_element(By.CSS_SELECTOR, css).get_attribute("aria-checked") == "true"


def test_closing_asks_how_and_why_and_stores_the_reason(
    server: Server, users: UserDirectory, driver: WebDriver, screenshots: Path
) -> None:
    incident_id = server.add_incident("market-01")
    login(driver, server, "somchai", f"/incidents/{incident_id}")
    wait_text(driver, "[data-test=fact-status]", EN["status.new"])
    offered = [
        e.get_attribute("data-test") for e in driver.find_elements(By.CSS_SELECTOR, "[data-test^=action-]")
    ]
    assert offered == ["action-acknowledge", "action-assign", "action-note", "action-close"]

    click(driver, "[data-test=action-close]")
    assert _question(driver, incident_id) == f"Close {_name(server, incident_id, 'en')}?"
    for action, status in CLOSING_ACTIONS.items():
        radios = driver.find_elements(By.CSS_SELECTOR, f"[data-test=close-{action.value}] [role=radio]")
        assert [r.get_attribute("aria-label") for r in radios] == [
            EN[f"reason.{reason.value}"] for reason in CLOSE_REASONS[status]
        ]
    click(driver, "[data-test=confirm-yes]")  # nothing chosen
    wait_text(driver, "[data-test=dialog-error]", EN[f"error.{Problem.REASON_MISSING.value}"])
    other = _radio("false_alarm", EN["reason.other"])
    click(driver, other)
    click(driver, "[data-test=confirm-yes]")  # Other without a note
    wait_text(driver, "[data-test=dialog-error]", EN[f"error.{Problem.NOTE_MISSING.value}"])
    assert server.store.get(incident_id).status is IncidentStatus.NEW  # nothing was sent
    referred = _radio("resolve", EN["reason.referred"])
    click(driver, referred)
    WebDriverWait(driver, 5).until(lambda d: _checked(d, referred) and not _checked(d, other))  # one reason
    wait_for(driver, "textarea[data-test=note-text]").send_keys("fire brigade took over")
    driver.save_screenshot(str(screenshots / "close-dialog-1366x768.png"))
    click(driver, "[data-test=confirm-yes]")

    wait_text(driver, "[data-test=fact-status]", EN["status.resolved"])
    wait_text(driver, "[data-test=fact-close_reason]", EN["reason.referred"])
    wait_text(driver, "[data-test=history]", EN["reason.referred"], exact=False)
    closed = server.store.get(incident_id)
    assert (closed.close_reason, closed.closed_by) == (CloseReason.REFERRED.value, "somchai")
    assert closed.closed_at is not None
    event = IncidentLifecycle(server.store).history(incident_id)[-1]
    assert (event.action, event.details, event.note) == (
        Action.RESOLVE,
        {"reason": "referred"},
        "fire brigade took over",
    )
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-test=action-close]")
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-test=action-reopen]"), (
        "an operator may not reopen"
    )
    driver.save_screenshot(str(screenshots / "closed-1366x768.png"))


def test_a_supervisor_reopens_with_a_note(
    server: Server, users: UserDirectory, driver: WebDriver, screenshots: Path
) -> None:
    incident_id = server.add_incident("street-01")
    lifecycle = IncidentLifecycle(server.store)
    lifecycle.change_status(incident_id, Action.ASSIGN, "somchai", unit="Patrol 3")
    lifecycle.change_status(incident_id, Action.FALSE_ALARM, "somchai", reason=CloseReason.WRONG_DETECTION)
    login(driver, server, "chief", f"/incidents/{incident_id}")
    wait_text(driver, "[data-test=fact-status]", EN["status.false_alarm"])
    wait_text(driver, "[data-test=fact-close_reason]", EN["reason.wrong_detection"])
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-test=action-close]")

    click(driver, "[data-test=action-reopen]")
    assert _question(driver, incident_id) == f"Reopen {_name(server, incident_id, 'en')}?"
    click(driver, "[data-test=confirm-yes]")  # no note
    wait_text(driver, "[data-test=dialog-error]", EN[f"error.{Problem.NOTE_MISSING.value}"])
    assert server.store.get(incident_id).status is IncidentStatus.FALSE_ALARM
    wait_for(driver, "textarea[data-test=note-text]").send_keys("a man is lying there after all")
    click(driver, "[data-test=confirm-yes]")

    wait_text(driver, "[data-test=fact-status]", EN["status.assigned"])  # back to its unit
    wait_text(driver, "[data-test=history]", "a man is lying there after all", exact=False)
    reopened_title = EN["history.reopened"].format(status=EN["status.assigned"])
    wait_text(driver, "[data-test=history]", reopened_title, exact=False)
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-test=fact-close_reason]")
    reopened = server.store.get(incident_id)
    assert (reopened.status, reopened.assigned_unit, reopened.closed_at, reopened.close_reason) == (
        IncidentStatus.ASSIGNED,
        "Patrol 3",
        None,
        None,
    )
    wait_for(driver, "[data-test=action-close]")  # open again: it can be closed again
    driver.save_screenshot(str(screenshots / "reopened-1366x768.png"))


def test_assigning_says_what_is_wrong_in_thai(
    server: Server, users: UserDirectory, driver: WebDriver, screenshots: Path
) -> None:
    incident_id = server.add_incident("lobby-01", type=IncidentType.FALL)
    login(driver, server, "somsak", f"/incidents/{incident_id}")
    wait_text(driver, "[data-test=fact-status]", TH["status.new"])
    name = _name(server, incident_id, "th")
    assert str(server.store.get(incident_id).started_at.astimezone(BANGKOK).year + 543) in name

    click(driver, "[data-test=action-acknowledge]")
    question = _question(driver, incident_id)
    assert question == TH["action.confirm_question"].format(action=TH["action.acknowledge"], incident=name)
    click(driver, "[data-test=confirm-no]")

    click(driver, "[data-test=action-assign]")
    assert _question(driver, incident_id) == TH["action.confirm_question"].format(
        action=TH["action.assign"], incident=name
    )
    click(driver, "[data-test=confirm-yes]")  # neither a user nor a unit
    wait_text(driver, "[data-test=dialog-error]", TH["error.one_assignee"])
    click(driver, "[data-test=assign-user]")
    WebDriverWait(driver, 5).until(
        lambda d: next(
            (e for e in d.find_elements(By.CSS_SELECTOR, ".q-menu .q-item") if e.text == "kanya"), False
        )
    ).click()
    wait_for(driver, "input[data-test=assign-unit]").send_keys("สายตรวจ 3")
    click(driver, "[data-test=confirm-yes]")  # both
    wait_text(driver, "[data-test=dialog-error]", TH["error.one_assignee"])
    driver.save_screenshot(str(screenshots / "assign-both-th-1366x768.png"))
    assert server.store.get(incident_id).status is IncidentStatus.NEW

    unit = wait_for(driver, "input[data-test=assign-unit]")
    unit.send_keys("\b" * len("สายตรวจ 3"))
    users.update_user("kanya", disabled=True)  # while the dialog is open: the server refuses
    click(driver, "[data-test=confirm-yes]")
    wait_text(driver, ".q-notification", TH["error.no_such_user"], exact=False)
    assert server.store.get(incident_id).status is IncidentStatus.NEW

    click(driver, "[data-test=action-assign]")
    wait_for(driver, "input[data-test=assign-unit]").send_keys("สายตรวจ 3")
    click(driver, "[data-test=confirm-yes]")
    wait_text(driver, "[data-test=fact-assigned]", "สายตรวจ 3")
    assert server.store.get(incident_id).assigned_unit == "สายตรวจ 3"
