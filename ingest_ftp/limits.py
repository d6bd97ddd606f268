"""Per-camera and per-address limits. All state lives on the IOLoop thread (no locks).

Connections per address are pyftpdlib's own `FTPServer.max_cons_per_ip`; these are the
limits it does not have: sessions per camera login, frames per second per camera, and
the failed-login budget of an address.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from sensr.throttle import FailureLog


class CameraSessions:
    """How many sessions each camera login has open, against a maximum."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def admit(self, camera: str) -> bool:
        """Count a new session for `camera`, or return False when it already has `limit`."""
        if self._open[camera] >= self.limit:
            return False
        self._open[camera] += 1
        return True

    def release(self, camera: str) -> None:
        self._open[camera] -= 1
        if self._open[camera] <= 0:
            del self._open[camera]


class FrameRate:
    """A token bucket per camera: `rate` frames per second, bursts of up to `rate` frames
    (at least one), so a camera may send a second's worth at once but not keep above it."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.burst = max(1.0, rate)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, camera: str) -> bool:
        """Take one frame's token for `camera`; False when the camera is over its rate."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        tokens, since = self._buckets.get(camera, (self.burst, now))
        tokens = min(self.burst, tokens + (now - since) * self.rate)
        if tokens < 1.0:
            self._buckets[camera] = (tokens, now)
            return False
        self._buckets[camera] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # cameras come and go: forget full buckets
            self._buckets = {cam: b for cam, b in self._buckets.items() if b[0] + (now - b[1]) * self.rate < self.burst}
        return True


class FailedLogins:
    """Failed logins per client address over the last minute (a `sensr.throttle.FailureLog`).

    The first `limit` failures of an address within a minute are answered at once (a
    camera with a mistyped password learns it quickly); beyond that each `530` waits
    `delay` seconds, which makes password guessing slow without a lock-out.
    """

    WINDOW = 60.0

    def __init__(self, limit: int, delay: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.delay = delay
        self._failures = FailureLog(self.WINDOW, depth=max(1, limit + 1), clock=clock)

    def record(self, address: str) -> float:
        """Count a failure from `address`; return how long its `530` reply should wait."""
        self._failures.failed(address)
        return self.delay if self._failures.recent_count(address) > self.limit else 0.0
