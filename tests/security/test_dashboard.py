"""Findings 1, 3 and 8 of the security probe (issue 14), in a real browser against a real `citywatch
serve`: an open page whose session ended acts for nobody and leaves for the login page; a
socket.io client that did not open the page cannot click its buttons; two admins saving zones of
one camera cannot silently drop each other's."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
import socketio
import yaml
from argon2 import PasswordHasher
from dashboard_support import PASSWORD, Server, browser, click, login, wait_for
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from citywatch.domain.stored_incident import IncidentStatus
from citywatch.storage.audit import AuditLog
from citywatch.storage.users import Role, UserDirectory

_names = itertools.count(1)


@pytest.fixture
def driver() -> Iterator[WebDriver]:
    driver = browser(1366, 768)
    yield driver
    driver.quit()


def _user(server: Server, role: Role) -> str:
    name = f"sec{role.value}{next(_names)}"
    users = UserDirectory(
        server.store, password_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    users.add_user(name, role, PASSWORD)
    return name


def _status(server: Server, incident_id: str) -> IncidentStatus:
    incident = server.store.get(incident_id)
    assert incident is not None
    return incident.status


def _on_login_page(driver: WebDriver, timeout: float) -> None:
    WebDriverWait(driver, timeout, 0.1).until(lambda d: "/login" in d.current_url, "the page stayed open")


@pytest.mark.parametrize("change", ["disabled", "demoted"])
def test_an_open_page_acts_for_nobody_once_its_user_changed(
    server: Server, driver: WebDriver, change: str
) -> None:
    name = _user(server, Role.OPERATOR)
    incident_id = server.add_incident("market-01")
    login(driver, server, name, f"/incidents/{incident_id}")
    wait_for(driver, "[data-test=action-acknowledge]").click()
    wait_for(driver, "[data-test=confirm-yes]")  # the page asks; meanwhile an admin acts
    users = UserDirectory(server.store)
    if change == "disabled":
        users.update_user(name, disabled=True)
    else:
        users.update_user(name, role=Role.VIEWER)
    click(driver, "[data-test=confirm-yes]")  # the page may redraw as the change reaches it
    if change == "disabled":
        _on_login_page(driver, 10)
    else:  # still logged in, no longer allowed
        WebDriverWait(driver, 10, 0.1).until(lambda d: "Your role may not do this" in d.page_source)
    assert _status(server, incident_id) is IncidentStatus.NEW
    assert AuditLog(server.store).entries(actor=name, action="incident.acknowledge") == []


def test_an_idle_page_leaves_for_the_login_page_when_its_session_ends(
    server: Server, driver: WebDriver
) -> None:
    name = _user(server, Role.VIEWER)
    login(driver, server, name, "/cameras")
    UserDirectory(server.store).update_user(name, disabled=True)
    started = time.monotonic()
    _on_login_page(driver, 10)
    assert time.monotonic() - started < 8


def test_a_socket_that_did_not_open_the_page_cannot_click_its_buttons(
    server: Server, driver: WebDriver
) -> None:
    name = _user(server, Role.OPERATOR)
    incident_id = server.add_incident("market-01")
    login(driver, server, name, f"/incidents/{incident_id}")
    button = wait_for(driver, "[data-test=action-acknowledge]")
    client_id, element_id, listener_id = driver.execute_script(
        """const el = arguments[0].closest('[id^=c]');
           const id = el.id.slice(1);
           const ev = mounted_app.elements[id].events.find(e => e.type === 'click');
           return [window.clientId, Number(id), ev.listener_id];""",
        button,
    )
    attacker = socketio.Client(reconnection=False)
    attacker.connect(
        server.url, socketio_path="/_nicegui_ws/socket.io", transports=["polling"],
        headers={"Origin": server.url},
    )  # fmt: skip
    try:
        for _ in range(3):
            attacker.emit(
                "event", {"id": element_id, "client_id": client_id, "listener_id": listener_id, "args": []}
            )
        time.sleep(2)
    finally:
        attacker.disconnect()
    assert not driver.find_elements("css selector", "[data-test=confirm-yes]"), (
        "the stranger's click opened the dialog"
    )
    assert _status(server, incident_id) is IncidentStatus.NEW
    # the page's own clicks still work
    button.click()
    wait_for(driver, "[data-test=confirm-yes]").click()
    WebDriverWait(driver, 10, 0.1).until(
        lambda _: _status(server, incident_id) is IncidentStatus.ACKNOWLEDGED
    )


def test_a_socket_from_another_origin_is_refused(server: Server) -> None:
    stranger = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect(
            server.url, socketio_path="/_nicegui_ws/socket.io", transports=["polling"],
            headers={"Origin": "http://evil.example"},
        )  # fmt: skip


def test_two_admins_saving_one_cameras_zones_do_not_lose_each_others(server: Server) -> None:
    """Both pages read the file, the first saves, the second is told and its save is refused."""
    server.add_incident("lobby-01")  # the editor draws on the camera's latest clip
    first, second = browser(1366, 768), browser(1366, 768)
    try:
        for driver in (first, second):
            login(driver, server, _user(server, Role.ADMIN), "/cameras/lobby-01/zones")
            wait_for(driver, "[data-test=zone-save]")
        before = server.config_path.read_text(encoding="utf-8")
        for driver, name in ((first, "first"), (second, "second")):
            _draw_zone(driver, name)
        wait_for(first, "[data-test=zone-save]").click()
        WebDriverWait(first, 10).until(lambda _: server.config_path.read_text(encoding="utf-8") != before)
        saved = server.config_path.read_text(encoding="utf-8")
        wait_for(second, "[data-test=zone-save]").click()
        WebDriverWait(second, 10).until(lambda d: "someone else saved" in d.page_source)
        assert server.config_path.read_text(encoding="utf-8") == saved
        camera = next(c for c in yaml.safe_load(saved)["cameras"] if c["id"] == "lobby-01")
        assert [z["name"] for z in camera["zones"]] == ["street", "first"]
    finally:
        first.quit()
        second.quit()
    entries = AuditLog(server.store).entries(action="zones.save")  # the save is in the audit log
    assert [e.target for e in entries] == ["camera:lobby-01"]


def _draw_zone(driver: WebDriver, name: str) -> None:
    image = wait_for(driver, "[data-test=zone-image] img")
    WebDriverWait(driver, 5).until(lambda d: image.get_attribute("naturalWidth") not in (None, "0"))
    width, height = image.size["width"], image.size["height"]
    for fx, fy in ((0.2, 0.2), (0.8, 0.25), (0.5, 0.8)):
        ActionChains(driver).move_to_element_with_offset(
            image, int((fx - 0.5) * width), int((fy - 0.5) * height)
        ).click().perform()
    wait_for(driver, "input[data-test=zone-name]").send_keys(name)
    wait_for(driver, "[data-test=zone-add]").click()


def test_the_login_page_does_not_send_the_browser_to_another_host(server: Server, driver: WebDriver) -> None:
    """The probe's link: a tab after the first slash, which browsers drop, made //127.0.0.1:18099/phish."""
    name = _user(server, Role.VIEWER)
    driver.get(f"{server.url}/login?next=%2F%09%2F127.0.0.1%3A18099%2Fphish")
    wait_for(driver, "input[data-test=username]").send_keys(name)
    wait_for(driver, "input[data-test=password]").send_keys(PASSWORD)
    wait_for(driver, "[data-test=login]").click()
    wait_for(driver, "[data-test=whoami]", 15)
    assert driver.current_url.startswith(server.url + "/"), driver.current_url
