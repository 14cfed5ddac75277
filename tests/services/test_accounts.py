"""A user's language, kept per user."""

import pytest

from citywatch.services.accounts import Accounts
from citywatch.services.permissions import Authority, Caller
from citywatch.services.ratelimit import LoginRateLimiter
from citywatch.storage.audit import AuditLog
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role, UserDirectory


def test_the_language_is_kept_per_user(store: IncidentStore) -> None:
    users = UserDirectory(store)
    accounts = Accounts(users, AuditLog(store), LoginRateLimiter(store, 5, 60))

    def caller(name: str) -> Caller:
        token, _ = users.start_session(users.add_user(name, Role.OPERATOR, "password-1"))
        found = Authority(store, users).caller(token, "dashboard")
        assert found is not None
        return found

    somchai, malee = caller("somchai"), caller("malee")
    assert accounts.language(somchai) is None
    accounts.set_language(somchai, "th")
    assert (accounts.language(somchai), accounts.language(malee)) == ("th", None)
    with pytest.raises(ValueError, match="unknown language"):
        accounts.set_language(somchai, "fr")


def test_the_sound_switch_is_kept_per_user_and_off_until_turned_on(store: IncidentStore) -> None:
    users = UserDirectory(store)
    accounts = Accounts(users, AuditLog(store), LoginRateLimiter(store, 5, 60))
    somchai_user = users.add_user("somchai", Role.OPERATOR, "password-1")
    malee_user = users.add_user("malee", Role.OPERATOR, "password-1")

    def caller(user_token: str) -> Caller:
        found = Authority(store, users).caller(user_token, "dashboard")
        assert found is not None
        return found

    first_login, _ = users.start_session(somchai_user)
    somchai, malee = caller(first_login), caller(users.start_session(malee_user)[0])
    assert (accounts.sound_alerts(somchai), accounts.sound_alerts(malee)) == (False, False)
    accounts.set_sound_alerts(somchai, True)
    assert (accounts.sound_alerts(somchai), accounts.sound_alerts(malee)) == (True, False)
    # kept for the user, not the session: another login (another browser) finds it on
    other_browser = caller(users.start_session(somchai_user)[0])
    assert accounts.sound_alerts(other_browser) is True
    accounts.set_sound_alerts(other_browser, False)
    assert accounts.sound_alerts(somchai) is False
    assert users.sound_alerts(somchai_user.id) is False and users.sound_alerts(10_000) is False


def test_a_machine_token_has_no_sound_switch(store: IncidentStore) -> None:
    users = UserDirectory(store)
    accounts = Accounts(users, AuditLog(store), LoginRateLimiter(store, 5, 60))
    _, secret = users.create_token("nvr-1", Role.VIEWER, "admin")
    machine = Authority(store, users).caller(secret, "api")
    assert machine is not None and machine.principal.expires_at is None
    assert accounts.sound_alerts(machine) is False
    with pytest.raises(ValueError, match="not a user"):
        accounts.set_sound_alerts(machine, True)


def test_a_session_caller_knows_when_its_session_ends(store: IncidentStore) -> None:
    """What the dashboard's expiry warning reads (api.session_hours)."""
    users = UserDirectory(store, session_ttl_s=24 * 3600)
    token, expires_at = users.start_session(users.add_user("somchai", Role.OPERATOR, "password-1"))
    caller = Authority(store, users).caller(token, "dashboard")
    assert caller is not None and caller.principal.expires_at == expires_at
