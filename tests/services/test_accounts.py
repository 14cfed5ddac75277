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
