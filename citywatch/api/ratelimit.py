"""The login rate limit: failed logins counted per (user name, client address) in a sliding window."""

import threading
import time
from collections import deque
from collections.abc import Callable

_SWEEP_ABOVE = 10_000
"""Keys kept before old ones are swept out, so guessing many names cannot grow memory for ever."""


class LoginRateLimiter:
    """At most `max_failures` failed logins per key within `window_s`; a success clears the key.

    Kept in memory: one API process guards its own door, and a restart forgetting the count is
    harmless next to argon2's cost per guess.
    """

    def __init__(
        self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_failures
        self._window = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until this key may try again; 0 when it may try now."""
        with self._lock:
            failures = self._prune((username, address))
            if len(failures) < self._max:
                return 0.0
            return max(0.0, failures[0] + self._window - self._clock())

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            if len(self._failures) > _SWEEP_ABOVE:
                for key in list(self._failures):
                    self._prune(key)
            key = (username, address)
            self._prune(key)
            self._failures.setdefault(key, deque()).append(self._clock())

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username, address), None)

    def _prune(self, key: tuple[str, str]) -> deque[float]:
        """The key's failures within the window (dropping older ones, and the key when none is left)."""
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        horizon = self._clock() - self._window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures
