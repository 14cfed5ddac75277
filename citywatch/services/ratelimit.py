"""The login rate limit: failed logins counted per (user name, client address) in a sliding window,
in the database, so one limit holds for every API process and machine over it.

Keyed by the pair, a stranger guessing from elsewhere locks out only their own address, never the
user's: the client address is the peer's, or what a configured trusted proxy says it is
(`api.trusted_proxies`), never an `X-Forwarded-For` that any client may send.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from citywatch.storage.schema import LoginFailureRow
from citywatch.storage.store import IncidentStore


def _key(username: str, address: str) -> str:
    return hashlib.sha256(f"{username}\0{address}".encode()).hexdigest()


class LoginRateLimiter:
    """At most `max_failures` failed logins per key within `window_s`; a success clears the key."""

    def __init__(
        self, store: IncidentStore, max_failures: int, window_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._max = max_failures
        self._window = window_s
        self._clock = clock

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until this key may try again; 0 when it may try now."""
        key, horizon = _key(username, address), self._at(self._clock() - self._window)
        query = select(func.count(), func.min(LoginFailureRow.at)).where(
            LoginFailureRow.key_hash == key, LoginFailureRow.at > horizon
        )
        count, oldest = self._store.read("count failed logins", lambda s: tuple(s.execute(query).one()))
        if count < self._max or oldest is None:
            return 0.0
        return max(0.0, oldest.timestamp() + self._window - self._clock())

    def failed(self, username: str, address: str) -> None:
        """Count a failure (and forget every failure older than the window, of any key)."""
        now = self._clock()

        def run(session: Session) -> None:
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= self._at(now - self._window)))
            session.add(LoginFailureRow(key_hash=_key(username, address), at=self._at(now)))

        self._store.write("count a failed login", run)

    def succeeded(self, username: str, address: str) -> None:
        key = _key(username, address)
        self._store.write(
            "clear failed logins",
            lambda s: s.execute(delete(LoginFailureRow).where(LoginFailureRow.key_hash == key)),
        )

    @staticmethod
    def _at(seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)
