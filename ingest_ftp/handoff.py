"""pyftpdlib's IOLoop as a `sensr.publisher.EventLoop`: callables run on the loop thread,
submitted from other threads.

pyftpdlib's IOLoop is not thread-safe and has no `call_soon_threadsafe`: its scheduler
heap must only be touched by the loop thread, and the loop may be asleep in `epoll_wait`
for up to the next timer. `LoopHandoff` is the usual self-pipe: a socket pair whose read
end is registered with the loop. `call_soon` (any thread) queues the callable and writes
one byte, unless a wake-up is already pending; the loop wakes, drains the queue and runs
the callables in order. Its clock and timers are the IOLoop's.
"""

from __future__ import annotations

import collections
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from pyftpdlib.ioloop import IOLoop

from sensr.logs import get_logger
from sensr.publisher import Cancellable

log = get_logger(__name__)


class LoopHandoff:
    """A wake-up channel into one IOLoop. Registered on creation; `close()` unregisters it."""

    def __init__(self, ioloop: IOLoop) -> None:
        self.ioloop = ioloop
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._calls: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = collections.deque()
        self._lock = threading.Lock()
        self._signalled = False
        self._fileno = self._reader.fileno()  # IOLoop.close() sorts its handlers by this
        ioloop.register(self._fileno, self, ioloop.READ)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run `callback(*args)` on the loop thread soon. Safe from any thread."""
        self._calls.append((callback, args))
        with self._lock:
            if self._signalled:
                return
            self._signalled = True
        # A full buffer already holds a wake-up; a closed one means the loop is gone.
        with contextlib.suppress(OSError):
            self._writer.send(b"\0")

    call_soon_threadsafe = call_soon  # the name `sensr.publisher.EventLoop` knows it by

    def time(self) -> float:
        """The IOLoop's clock (its timers count in `time.monotonic`)."""
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], object]) -> Cancellable:
        """Run `callback` on the loop after `delay` seconds (loop thread only)."""
        return self.ioloop.call_later(delay, callback)

    # -- the loop side (the IOLoop calls these) -----------------------------------------

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_read_event(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._reader.recv(4096)
        with self._lock:
            self._signalled = False
        while self._calls:
            callback, args = self._calls.popleft()
            try:
                callback(*args)
            except Exception:  # one failing callback must not starve the others
                log.exception("loop_callback_failed", callback=repr(callback))

    def handle_write_event(self) -> None:  # never asked for
        pass

    def handle_close(self) -> None:
        self.close()

    def handle_error(self) -> None:
        log.exception("loop_handoff_error")

    def close(self) -> None:
        if self._reader.fileno() != -1:
            self.ioloop.unregister(self._fileno)
        self._reader.close()
        self._writer.close()
