"""Per-address slow-down of failed camera logins (password guessing, camera-name probing).

The limit, documented for operators: an address may fail to log in (unknown camera or
wrong password; not a missing header, which is how wget and ffmpeg start) up to
`SENSR_AUTH_FAILURE_LIMIT` times within a sliding minute. While it is over that limit,
its upload requests are let through one per `SENSR_AUTH_FAILURE_DELAY` seconds, each
waiting for its turn before its credentials are even looked at, so a correct guess is
answered no faster than a wrong one. A request whose turn is more than ten delays away
is answered 429 at once instead of queueing. Cameras behind the same NAT address as a
misbehaving device are slowed too; they are not refused.

The failures are counted by `sensr.throttle.FailureLog`, which bounds the memory: at most
`max_addresses` addresses are remembered, the least recently failing forgotten first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sensr.throttle import FailureLog

WINDOW_SECONDS = 60.0
MAX_WAIT_DELAYS = 10


class LoginThrottle:
    """Counts failed logins per address and hands out turns to addresses over the limit."""

    def __init__(self, limit: int, delay: float, *, window: float = WINDOW_SECONDS, max_addresses: int = 65_536,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("the failed-login limit must be at least 1")
        self._limit, self._delay = limit, delay
        self._failures = FailureLog(window, depth=limit, max_keys=max_addresses, clock=clock)

    def admit(self, address: str) -> float | None:
        """Seconds a request from `address` must wait before it is handled (0.0 for an
        address within the limit), or None when it should be refused (429)."""
        failures = self._failures.get(address)
        if failures is None or self._failures.recent_count(address) < self._limit:
            return 0.0
        now = self._failures.clock()
        turn = max(now, failures.wait_until) + self._delay
        if turn - now > MAX_WAIT_DELAYS * self._delay:
            return None
        failures.wait_until = turn  # the turns of an address queue behind each other
        return turn - now

    def record_failure(self, address: str) -> None:
        """Count one failed login from `address`."""
        self._failures.failed(address)
