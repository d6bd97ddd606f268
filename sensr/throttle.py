"""Slowing down repeated failures (password guessing) per key, without locking anyone out.

`FailureLog` is the one count of failed logins every surface stands on: per key (a client
address, an address and an account, ...) it remembers the failures and the moment until
which the key must wait, within a bounded memory and on an injected clock. Each surface
puts its policy on top:

- `FailureBackoff` (the api's logins): past `free` failures each further one doubles the
  key's wait, and the count lasts while failures keep coming.
- `ingest_http.throttle.LoginThrottle`: an address over its failures per minute gets one
  turn per delay.
- `ingest_ftp.limits.FailedLogins`: an address over its failures per minute gets its `530`
  replies delayed.

Nothing here locks an account: OWASP's advice against brute force (Authentication Cheat
Sheet) is to slow the guesser down, since a lock-out would let anyone lock out the owner.
Not thread-safe: use one instance from one thread (an event loop).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class Failures:
    """One key's failures since it was last forgotten."""

    count: int
    recent: tuple[float, ...]
    """When the latest (up to the log's `depth`) failures were, oldest first."""
    wait_until: float
    """The key's next attempt should wait until then (a policy sets it); the key is
    remembered at least until then."""

    @property
    def last(self) -> float:
        return self.recent[-1]


class FailureLog:
    """Failures per key. A key is forgotten once it has had no failure for `window` seconds
    and is not waiting (or at once on `forget`).

    Two counts for two kinds of policy: `Failures.count`, all failures since the key was
    last forgotten (a backoff, which must not relax while failures keep coming), and
    `recent_count`, the failures in the last `window` seconds (a rate limit; it looks at the
    latest `depth` failures, so it counts up to `depth`).

    Memory is bounded: at most `max_keys` keys are remembered, the least recently failing
    forgotten first.
    """

    def __init__(self, window: float, *, depth: int = 1, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if window <= 0 or depth < 1 or max_keys < 1:
            raise ValueError("need window > 0, depth >= 1 and max_keys >= 1")
        self.window, self.depth = window, depth
        self._max_keys = max_keys
        self.clock = clock
        self._keys: dict[Hashable, Failures] = {}

    def get(self, key: Hashable) -> Failures | None:
        """`key`'s failures; None when it has none (or they are forgotten)."""
        failures = self._keys.get(key)
        if failures is not None:
            now = self.clock()
            if now - failures.last >= self.window and now >= failures.wait_until:
                del self._keys[key]
                return None
        return failures

    def failed(self, key: Hashable) -> Failures:
        """Count one failure of `key`; return its failures (for the policy to set `wait_until`)."""
        now = self.clock()
        failures = self.get(key)
        self._keys.pop(key, None)
        if failures is None:
            failures = Failures(count=0, recent=(), wait_until=now)
            if len(self._keys) >= self._max_keys:
                del self._keys[next(iter(self._keys))]
        failures.count += 1
        failures.recent = (*failures.recent, now)[-self.depth:]
        self._keys[key] = failures  # (re)inserted last: the most recently failing
        return failures

    def recent_count(self, key: Hashable) -> int:
        """How many of `key`'s latest `depth` failures happened less than `window` seconds ago."""
        failures = self.get(key)
        if failures is None:
            return 0
        now = self.clock()
        return sum(1 for moment in failures.recent if now - moment < self.window)

    def forget(self, key: Hashable) -> None:
        self._keys.pop(key, None)


class FailureBackoff:
    """The first `free` failures of a key cost nothing; each further one makes the key wait
    before its next attempt, `delay` seconds after the first such failure and twice as long
    after each next one, up to `max_delay`. A key's count is forgotten once it has had no
    failure for `window` seconds (and its wait is over), or at once on `succeeded`."""

    def __init__(self, free: int, delay: float, max_delay: float, window: float, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if free < 0 or delay <= 0 or max_delay < delay or window <= 0:
            raise ValueError("need free >= 0, 0 < delay <= max_delay and window > 0")
        self.free, self.delay, self.max_delay = free, delay, max_delay
        self._log = FailureLog(window, max_keys=max_keys, clock=clock)

    def retry_after(self, key: Hashable) -> float:
        """Seconds `key` must wait before its next attempt; 0.0 when it may try now."""
        failures = self._log.get(key)
        return 0.0 if failures is None else max(0.0, failures.wait_until - self._log.clock())

    def failed(self, key: Hashable) -> None:
        """Count one failure of `key` (and make it wait, past its free ones)."""
        failures = self._log.failed(key)
        beyond = failures.count - self.free
        if beyond > 0:
            wait = self.delay * 2.0 ** min(beyond - 1, 62)
            failures.wait_until = failures.last + min(wait, self.max_delay)

    def succeeded(self, key: Hashable) -> None:
        """Forget `key`'s failures."""
        self._log.forget(key)
