"""Who may do what: every endpoint for every role, 401 without or with a bad credential, the
login rate limit, and no secret in logs or error bodies."""

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from api_support import LINK_SECRET, PASSWORD, Api
from fastapi.routing import APIRoute

from citywatch.domain.lifecycle import Action, CloseReason
from citywatch.notifiers.evidence_links import snapshot_link
from citywatch.storage.users import Role

_names = itertools.count(1)


@dataclass(frozen=True)
class Endpoint:
    method: str
    route: str
    """The route's path template; {incident_id}, {token_id} and {name} get a fresh object per request."""
    role: Role
    body: Callable[[], dict] | None = None
    fixed: dict[str, str] = field(default_factory=dict)
    closed: bool = False
    """The fresh incident is resolved first (reopen needs a closed one)."""

    def request(self, api: Api, headers: dict[str, str]) -> int:
        path = self.route
        for name, value in self.fixed.items():
            path = path.replace(f"{{{name}}}", value)
        if "{incident_id}" in path:
            incident_id = api.add_incident()
            if self.closed:
                api.context.lifecycle.change_status(
                    incident_id, Action.RESOLVE, "test", reason=CloseReason.HANDLED
                )
            path = path.replace("{incident_id}", incident_id)
        if "{token_id}" in path:
            token, _ = api.context.users.create_token(f"t{next(_names)}", Role.VIEWER, "test")
            path = path.replace("{token_id}", str(token.id))
        if "{name}" in path:
            user = api.context.users.add_user(f"u{next(_names)}", Role.VIEWER, PASSWORD)
            path = path.replace("{name}", user.name)
        body = self.body() if self.body else None
        return api.client.request(self.method, path, headers=headers, json=body).status_code


def _new_user() -> dict:
    return {"name": f"n{next(_names)}", "role": "viewer", "password": PASSWORD}


ENDPOINTS = [
    Endpoint("GET", "/api/auth/me", Role.VIEWER),
    Endpoint("GET", "/api/cameras", Role.VIEWER),
    Endpoint("GET", "/api/cameras/{camera_id}", Role.VIEWER, fixed={"camera_id": "cam01"}),
    Endpoint("GET", "/api/incidents", Role.VIEWER),
    Endpoint("GET", "/api/incidents/{incident_id}", Role.VIEWER),
    Endpoint("GET", "/api/incidents/{incident_id}/{kind}", Role.VIEWER, fixed={"kind": "snapshot"}),
    Endpoint("GET", "/api/stats", Role.VIEWER),
    Endpoint("GET", "/metrics", Role.VIEWER),
    Endpoint("POST", "/api/incidents/{incident_id}/acknowledge", Role.OPERATOR),
    Endpoint("POST", "/api/incidents/{incident_id}/assign", Role.OPERATOR, lambda: {"unit": "Patrol 3"}),
    Endpoint(
        "POST",
        "/api/incidents/{incident_id}/resolve",
        Role.OPERATOR,
        lambda: {"reason": "handled", "note": "brigade came"},
    ),
    Endpoint("POST", "/api/incidents/{incident_id}/false_alarm", Role.OPERATOR, lambda: {"reason": "test"}),
    Endpoint(
        "POST", "/api/incidents/{incident_id}/reopen", Role.SUPERVISOR, lambda: {"note": "again"}, closed=True
    ),
    Endpoint("POST", "/api/incidents/{incident_id}/notes", Role.OPERATOR, lambda: {"note": "called 199"}),
    Endpoint("POST", "/api/incidents/{incident_id}/lock", Role.SUPERVISOR),
    Endpoint("POST", "/api/incidents/{incident_id}/unlock", Role.SUPERVISOR),
    Endpoint("GET", "/api/users", Role.ADMIN),
    Endpoint("POST", "/api/users", Role.ADMIN, _new_user),
    Endpoint("PATCH", "/api/users/{name}", Role.ADMIN, lambda: {"role": "operator"}),
    Endpoint("GET", "/api/tokens", Role.ADMIN),
    Endpoint("POST", "/api/tokens", Role.ADMIN, lambda: {"name": f"nvr{next(_names)}", "role": "viewer"}),
    Endpoint("DELETE", "/api/tokens/{token_id}", Role.ADMIN),
    Endpoint("GET", "/api/audit", Role.ADMIN),
    Endpoint("GET", "/api/notifications/dead-letters", Role.ADMIN),
]
PUBLIC = {("POST", "/api/auth/login"), ("GET", "/api/health")}
SIGNED = {("GET", "/api/shared/snapshots/{incident_id}.jpg")}
"""No login: the link's signature is the credential (see test_signed_links_ignore_roles)."""
ANY_ROLE = {("POST", "/api/auth/logout")}  # see test_logout_ends_the_session
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def test_every_route_is_in_the_role_matrix(shared_api: Api) -> None:
    """A new endpoint without a row in ENDPOINTS (or a reason to be public) fails here."""
    routes = {
        (method, route.path)
        for route in shared_api.client.app.routes
        if isinstance(route, APIRoute) and route.path not in DOCS
        for method in route.methods
    }
    assert routes - {(e.method, e.route) for e in ENDPOINTS} - PUBLIC - ANY_ROLE - SIGNED == set()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.route}")
def test_each_role_gets_exactly_what_it_may(shared_api: Api, endpoint: Endpoint) -> None:
    api = shared_api
    assert endpoint.request(api, {}) == 401
    assert endpoint.request(api, {"Authorization": "Bearer cws_not-a-real-session"}) == 401
    assert endpoint.request(api, {"Authorization": "Bearer cwt_not-a-real-token"}) == 401
    assert endpoint.request(api, {"Authorization": "Basic YWRtaW46YWRtaW4="}) == 401
    for role in Role:
        status = endpoint.request(api, api.headers(role))
        if role.allows(endpoint.role):
            assert 200 <= status < 300, (role, status)
        else:
            assert status == 403, (role, status)


def test_signed_links_ignore_roles(shared_api: Api) -> None:
    """Only the signature opens a shared snapshot: no role without it, any caller with it."""
    api = shared_api
    incident = api.add_incident()
    good = snapshot_link("", LINK_SECRET, incident, 600)
    forged = snapshot_link("", "not-the-secret-of-this-api", incident, 600)
    for headers in [{}, {"Authorization": "Bearer cws_not-a-real-session"}] + [api.headers(r) for r in Role]:
        assert api.client.get(forged, headers=headers).status_code == 403
        assert api.client.get(good, headers=headers).status_code == 200


def test_viewer_cannot_acknowledge_and_operator_cannot_read_the_audit_log(api: Api) -> None:
    incident = api.add_incident()
    assert (
        api.client.post(
            f"/api/incidents/{incident}/acknowledge", headers=api.headers(Role.VIEWER)
        ).status_code
        == 403
    )
    assert api.store.get(incident).status == "new"
    assert api.client.get("/api/audit", headers=api.headers(Role.OPERATOR)).status_code == 403
    assert api.client.get("/api/audit", headers=api.headers(Role.ADMIN)).status_code == 200


def test_api_tokens_work_until_revoked(api: Api) -> None:
    admin = api.headers(Role.ADMIN)
    created = api.client.post("/api/tokens", json={"name": "nvr-1", "role": "operator"}, headers=admin).json()
    machine = {"Authorization": f"Bearer {created['token']}"}
    assert api.client.get("/api/auth/me", headers=machine).json() == {
        "actor": "token:nvr-1",
        "role": "operator",
    }
    listed = api.client.get("/api/tokens", headers=admin).json()
    assert "token" not in listed[0] and created["token"] not in str(listed)
    assert api.client.delete(f"/api/tokens/{created['id']}", headers=admin).status_code == 200
    assert api.client.get("/api/auth/me", headers=machine).status_code == 401


def test_login_logout_and_a_disabled_user(api: Api) -> None:
    api.client.cookies.clear()
    login = api.client.post("/api/auth/login", json={"username": "operator1", "password": PASSWORD})
    assert login.status_code == 200
    token = login.json()["token"]
    assert login.cookies.get("citywatch_session") == token
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/auth/me", headers=bearer).json() == {"actor": "operator1", "role": "operator"}
    assert api.client.post("/api/auth/logout", headers=bearer).status_code == 204
    assert api.client.get("/api/auth/me", headers=bearer).status_code == 401

    second = api.client.post("/api/auth/login", json={"username": "operator1", "password": PASSWORD}).json()
    api.client.patch("/api/users/operator1", json={"disabled": True}, headers=api.headers(Role.ADMIN))
    assert (
        api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {second['token']}"}).status_code
        == 401
    )
    again = api.client.post("/api/auth/login", json={"username": "operator1", "password": PASSWORD})
    assert again.status_code == 401


def test_login_is_rate_limited_per_user_and_address(api: Api) -> None:
    def login(username: str, password: str) -> int:
        return api.client.post(
            "/api/auth/login", json={"username": username, "password": password}
        ).status_code

    assert [login("viewer1", "wrong-password") for _ in range(5)] == [401] * 5
    refused = api.client.post("/api/auth/login", json={"username": "viewer1", "password": PASSWORD})
    assert refused.status_code == 429  # even the right password, while the limit holds
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert login("operator1", PASSWORD) == 200  # another user name is not locked out
    audit = api.client.get("/api/audit", params={"action": "login.failed"}, headers=api.headers(Role.ADMIN))
    assert [e["actor"] for e in audit.json()] == ["viewer1"] * 5


def test_no_secret_in_logs_or_error_bodies(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [PASSWORD, "wrong-but-secret-pw", *api.tokens.values()]
    bodies = [
        api.client.post("/api/auth/login", json={"username": "admin1", "password": "wrong-but-secret-pw"}),
        api.client.post("/api/auth/login", json={"username": "no such user!", "password": PASSWORD}),
        api.client.post("/api/auth/login", json={"username": "admin1", "password": PASSWORD * 100}),
        api.client.post("/api/auth/login", json={"username": "admin1"}),
        api.client.post(
            "/api/users",
            json={"name": "admin1", "role": "admin", "password": PASSWORD},
            headers=api.headers(Role.ADMIN),
        ),
        api.client.post(
            "/api/users",
            json={"name": "x", "role": "boss", "password": PASSWORD},
            headers=api.headers(Role.ADMIN),
        ),
        api.client.get("/api/incidents", headers={"Authorization": f"Bearer {api.tokens[Role.ADMIN]}x"}),
        api.client.get("/api/audit", headers=api.headers(Role.VIEWER)),
    ]
    assert [b.status_code for b in bodies] == [401, 422, 422, 422, 409, 422, 401, 403]
    audit = api.client.get("/api/audit", params={"limit": 1000}, headers=api.headers(Role.ADMIN)).text
    for secret in secrets:
        for body in bodies:
            assert secret not in body.text
        assert secret not in caplog.text
        assert secret not in audit
