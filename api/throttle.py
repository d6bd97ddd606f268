"""Rate limiting of failed logins, per client address and per account.

A sliding window: each failure is remembered for `window` seconds; once an address or an
account holds `limit` of them, further attempts are refused (before any password is
checked, so a flood costs no hashing) until the oldest failure leaves the window. A
successful login clears its account's failures, not its address's (one attacker may
own an account and guess at others).

The counts live in this process: behind several api replicas each keeps its own, which
still bounds guessing to replicas x limit per window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

_MAX_KEYS = 100_000  # beyond this many tracked keys, stale ones are swept first


class _Window:
    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        failures = self._prune(key, now)
        if failures is None or len(failures) < self.limit:
            return 0.0
        return failures[-self.limit] + self.window - now

    def add(self, key: str, now: float) -> None:
        if len(self._failures) >= _MAX_KEYS:
            for stale in [k for k, q in self._failures.items() if q[-1] <= now - self.window]:
                del self._failures[stale]
        self._failures.setdefault(key, deque(maxlen=self.limit)).append(now)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if failures is not None and not failures:
            del self._failures[key]
            return None
        return failures


class LoginThrottle:
    """Not thread-safe: use it from the event loop only."""

    def __init__(self, per_address: int, per_account: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._addresses = _Window(per_address, window)
        self._accounts = _Window(per_account, window)
        self._clock = clock

    def retry_after(self, address: str, account: str) -> float:
        """Seconds until a login from `address` to `account` may be tried; 0 when now."""
        now = self._clock()
        return max(self._addresses.retry_after(address, now), self._accounts.retry_after(account, now))

    def failed(self, address: str, account: str) -> None:
        now = self._clock()
        self._addresses.add(address, now)
        self._accounts.add(account, now)

    def succeeded(self, account: str) -> None:
        self._accounts.clear(account)
