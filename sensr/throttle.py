"""Slowing down repeated failures (password guessing) per key, without locking anyone out.

`FailureBackoff` counts the failures of each key (a client address, an address and an
account, ...). The first `free` failures cost nothing; each further one makes the key wait
before its next attempt, `delay` seconds after the first such failure and twice as long
after each next one, up to `max_delay`. A key's count is forgotten once it has had no
failure for `window` seconds, or at once on `succeeded`. This is OWASP's advice against
brute force (Authentication Cheat Sheet): slow the guesser down instead of locking the
account, which would let anyone lock out its owner.

Memory is bounded: at most `max_keys` keys are remembered, the least recently failing
forgotten first. Not thread-safe: use one instance from one thread (an event loop).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    next_attempt: float


class FailureBackoff:
    def __init__(self, free: int, delay: float, max_delay: float, window: float, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if free < 0 or delay <= 0 or max_delay < delay or window <= 0:
            raise ValueError("need free >= 0, 0 < delay <= max_delay and window > 0")
        self.free, self.delay, self.max_delay, self.window = free, delay, max_delay, window
        self._max_keys = max_keys
        self._clock = clock
        self._keys: dict[Hashable, _Failures] = {}

    def retry_after(self, key: Hashable) -> float:
        """Seconds `key` must wait before its next attempt; 0.0 when it may try now."""
        failures = self._current(key, self._clock())
        return 0.0 if failures is None else max(0.0, failures.next_attempt - self._clock())

    def failed(self, key: Hashable) -> None:
        """Count one failure of `key` (and make it wait, past its free ones)."""
        now = self._clock()
        failures = self._current(key, now)
        self._keys.pop(key, None)
        if failures is None:
            failures = _Failures(count=0, last=now, next_attempt=now)
            if len(self._keys) >= self._max_keys:
                del self._keys[next(iter(self._keys))]
        failures.count += 1
        failures.last = now
        beyond = failures.count - self.free
        if beyond > 0:
            wait = self.delay * 2.0 ** min(beyond - 1, 62)
            failures.next_attempt = now + min(wait, self.max_delay)
        self._keys[key] = failures  # (re)inserted last: the most recently failing

    def succeeded(self, key: Hashable) -> None:
        """Forget `key`'s failures."""
        self._keys.pop(key, None)

    def _current(self, key: Hashable, now: float) -> _Failures | None:
        failures = self._keys.get(key)
        if failures is not None and now - failures.last >= self.window and now >= failures.next_attempt:
            del self._keys[key]
            return None
        return failures
