"""Per-address slow-down of failed camera logins (password guessing, camera-name probing).

The limit, documented for operators: an address may fail to log in (unknown camera or
wrong password; not a missing header, which is how wget and ffmpeg start) up to
`SENSR_AUTH_FAILURE_LIMIT` times within a sliding minute. While it is over that limit,
its upload requests are let through one per `SENSR_AUTH_FAILURE_DELAY` seconds, each
waiting for its turn before its credentials are even looked at, so a correct guess is
answered no faster than a wrong one. A request whose turn is more than ten delays away
is answered 429 at once instead of queueing. Cameras behind the same NAT address as a
misbehaving device are slowed too; they are not refused.

Memory is bounded: at most `max_addresses` addresses are remembered, the least recently
failing forgotten first.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_SECONDS = 60.0
MAX_WAIT_DELAYS = 10


@dataclass(slots=True)
class _Record:
    failures: deque[float]
    next_turn: float = field(default=0.0)


class LoginThrottle:
    """Counts failed logins per address and hands out turns to addresses over the limit."""

    def __init__(self, limit: int, delay: float, *, window: float = WINDOW_SECONDS, max_addresses: int = 65_536,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("the failed-login limit must be at least 1")
        self._limit, self._delay, self._window = limit, delay, window
        self._max_addresses = max_addresses
        self._clock = clock
        self._records: dict[str, _Record] = {}

    def admit(self, address: str) -> float | None:
        """Seconds a request from `address` must wait before it is handled (0.0 for an
        address within the limit), or None when it should be refused (429)."""
        record = self._records.get(address)
        now = self._clock()
        if record is None or not self._over_limit(record, now):
            return 0.0
        turn = max(now, record.next_turn) + self._delay
        if turn - now > MAX_WAIT_DELAYS * self._delay:
            return None
        record.next_turn = turn
        return turn - now

    def record_failure(self, address: str) -> None:
        """Count one failed login from `address`."""
        record = self._records.pop(address, None)
        if record is None:
            record = _Record(deque(maxlen=self._limit))
            if len(self._records) >= self._max_addresses:
                del self._records[next(iter(self._records))]
        record.failures.append(self._clock())
        self._records[address] = record  # (re)inserted last: most recently failing

    def _over_limit(self, record: _Record, now: float) -> bool:
        failures = record.failures
        return len(failures) == self._limit and now - failures[0] < self._window
