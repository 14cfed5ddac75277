"""Findings 11 and 12 of the security probe (issue 14): the login limit holds across processes and
believes no invented client address; cross-site requests with the cookie are refused; every answer
carries the browser security headers; the API docs and the version can be switched off."""

import itertools
from dataclasses import replace

import httpx
from api_support import PASSWORD, Api
from dashboard_support import Server
from fastapi.testclient import TestClient

from citywatch.api.app import create_app
from citywatch.services.ratelimit import LoginRateLimiter
from citywatch.storage.audit import AuditLog
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role, UserDirectory

_names = itertools.count(1)


def test_every_answer_carries_the_security_headers(api: Api, server: Server) -> None:
    answers = [
        api.client.get("/api/health"),
        api.client.get("/api/incidents"),
        httpx.get(f"{server.url}/login"),
    ]
    for answer in answers:
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"


def test_a_cross_site_request_with_the_cookie_is_refused(api: Api) -> None:
    incident = api.add_incident()
    api.client.cookies.set("citywatch_session", api.tokens[Role.OPERATOR])
    url = f"/api/incidents/{incident}/notes"
    for origin in ("http://evil.example", "null", "http://testserver.evil.example"):
        assert api.client.post(url, json={"note": "x"}, headers={"Origin": origin}).status_code == 403
    bare = TestClient(api.client.app, cookies={"citywatch_session": api.tokens[Role.OPERATOR]})
    assert bare.post(url, json={"note": "x"}).status_code == 403  # neither Origin nor Referer
    assert bare.post(url, json={"note": "x"}, headers={"Referer": "http://evil.example/"}).status_code == 403
    assert bare.post(url, json={"note": "ok"}, headers={"Referer": "http://testserver/x"}).status_code == 201
    api.client.cookies.clear()
    bearer = {"Authorization": f"Bearer {api.tokens[Role.OPERATOR]}", "Origin": "http://evil.example"}
    assert api.client.post(url, json={"note": "a script"}, headers=bearer).status_code == 201
    notes = [e.note for e in api.context.lifecycle.history(incident) if e.note]
    assert notes == ["ok", "a script"]


def test_docs_and_version_can_be_switched_off(api: Api) -> None:
    assert api.client.get("/openapi.json").status_code == 200
    assert api.client.get("/api/health").json()["version"]
    settings = api.context.settings.model_copy(update={"docs": False, "health_version": False})
    quiet = TestClient(create_app(replace(api.context, settings=settings)))
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert quiet.get(path).status_code == 404, path
    assert quiet.get("/api/health").json()["version"] is None


def test_the_login_limit_holds_across_processes_and_only_for_that_address(api: Api) -> None:
    url = api.store.engine.url.render_as_string(hide_password=False)
    elsewhere = LoginRateLimiter(IncidentStore(url), 5, 60)  # another API process over the database
    for _ in range(5):
        api.context.limiter.failed("viewer1", "10.0.0.66")
    assert elsewhere.retry_after("viewer1", "10.0.0.66") > 0
    assert elsewhere.retry_after("viewer1", "10.0.0.7") == 0  # the user's own address is not locked
    elsewhere.succeeded("viewer1", "10.0.0.66")
    assert api.context.limiter.retry_after("viewer1", "10.0.0.66") == 0


def test_an_invented_forwarded_address_neither_escapes_the_limit_nor_reaches_the_audit_log(
    server: Server,
) -> None:
    """`citywatch serve` with no trusted proxy: X-Forwarded-For is nobody's word."""
    name = f"target{next(_names)}"
    UserDirectory(server.store).add_user(name, Role.VIEWER, PASSWORD)
    codes = [
        httpx.post(
            f"{server.url}/api/auth/login",
            json={"username": name, "password": "wrong-password"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        ).status_code
        for i in range(7)
    ]
    assert codes == [401] * 5 + [429] * 2
    addresses = {e.ip for e in AuditLog(server.store).entries(actor=name)}
    assert addresses == {"127.0.0.1"}
