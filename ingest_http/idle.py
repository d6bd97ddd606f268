"""Closing request bodies that go silent.

Tornado's `body_timeout` bounds a body's total time, which an hours-long MJPEG stream
must not have; what matters is silence. `IdleWatch` closes a body from which no bytes
arrived for `timeout` seconds, except while the server itself holds the client back
(flow control waiting for Kafka): that wait is bounded by the acknowledgement timeout.

One sweep every `timeout / 4` seconds (at most one second) checks every open body,
instead of a timer per request: for a 100 KB photo, arming and cancelling a timer cost
more than the rest of this bookkeeping. A silent body is thus closed between `timeout`
and `timeout` plus one sweep interval after its last byte.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class IdleTimer:
    """One watched body; `touch()` when bytes arrive, `cancel()` when it is complete."""

    __slots__ = ("_watch", "on_idle", "last", "paused")

    def __init__(self, watch: IdleWatch, on_idle: Callable[[], None], now: float) -> None:
        self._watch = watch
        self.on_idle = on_idle
        self.last = now
        self.paused = False
        """True while the server, not the client, is the slow side."""

    def touch(self) -> None:
        """Bytes arrived (cheap: called for every chunk)."""
        self.last = self._watch.now()

    def cancel(self) -> None:
        self._watch.forget(self)


class IdleWatch:
    """Calls a body's `on_idle` once its client has been silent for `timeout` seconds."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._interval = min(1.0, timeout / 4)
        self._timers: set[IdleTimer] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeping = False

    def now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def watch(self, on_idle: Callable[[], None]) -> IdleTimer:
        """Start watching a body (on the event loop)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        timer = IdleTimer(self, on_idle, self._loop.time())
        self._timers.add(timer)
        if not self._sweeping:
            self._sweeping = True
            self._loop.call_later(self._interval, self._sweep)
        return timer

    def forget(self, timer: IdleTimer) -> None:
        self._timers.discard(timer)

    def _sweep(self) -> None:
        now = self.now()
        for timer in list(self._timers):
            if timer.paused:
                timer.last = now
            elif now - timer.last >= self.timeout:
                self._timers.discard(timer)
                timer.on_idle()
        self._sweeping = bool(self._timers)
        if self._sweeping:
            assert self._loop is not None
            self._loop.call_later(self._interval, self._sweep)
