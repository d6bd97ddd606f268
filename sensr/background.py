"""`BackgroundLoop`: the one shape of a service's background thread.

A step runs again and again on a daemon thread until the stop event is set: a periodic
job (retention sweep, camera purge, clip sweep) returns after one round; a follower
(a consumer that reads a topic until stopped) returns only when stopped. Between two
steps, and after a step that failed, the loop waits `interval` seconds (a stop ends the
pause at once). A failing step is logged (`background_step_failed`, with the loop's name)
and never ends the thread: its dependency may be back by the next round.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sensr.logs import first_line, get_logger

log = get_logger(__name__)


class BackgroundLoop:
    def __init__(self, name: str, step: Callable[[threading.Event], object], interval: float, *,
                 errors: tuple[type[BaseException], ...] = (Exception,),
                 stop: threading.Event | None = None) -> None:
        """`step(stop)` every `interval` seconds on a thread called `name`; one of `errors`
        raised by a step is logged and waited out. `stop` is shared with the caller when
        given (a worker's own stop event), else the loop has its own (`stop()` sets it)."""
        self.name = name
        self._step, self._interval, self._errors = step, interval, errors
        self._stop = stop if stop is not None else threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "BackgroundLoop":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Set the stop event and wait up to `timeout` seconds for the step under way to end."""
        self._stop.set()
        self.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step(self._stop)
            except self._errors as error:
                log.warning("background_step_failed", loop=self.name, error=first_line(error))
            self._stop.wait(self._interval)
