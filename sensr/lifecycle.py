"""How every service starts, says whether Kafka answers, and stops.

* Start-up waits for each dependency (Kafka, the object store, the index database, the
  camera table) with one policy: `wait_for` (threads) and `wait_for_async` (asyncio) try
  again after each failure, the pause doubling from 0.5 s up to
  `SENSR_DEPENDENCY_WAIT_MAX_SECONDS` with jitter, logging `waiting_for_dependency` with
  what they wait for and the next pause. They give up only when the service is asked to
  stop, by raising `Stopped`.
* `kafka_reachable`: the one check of whether a Kafka bootstrap server answers, for
  `/readyz` (run it in a thread, or through `PeriodicProbe`).
* `service_main`: every service's `main` (settings, logs, then one of the two below).
* `run_service` (a service that serves on the main thread: ingest_ftp's pyftpdlib loop,
  the catalog worker's consumer loop) and `run_async_service` (asyncio: ingest_http, api)
  run one sequence: install SIGTERM/SIGINT, start, serve until the first signal, drain
  (finish the work under way), close; each phase logged as `service_<phase>`. A signal
  during start-up ends it (`Stopped`) and closes what was opened; a second signal stops
  at once (exit code 128 + the signal's number).

The retries themselves are tenacity's (`Retrying`, `AsyncRetrying`); this module only
fixes the policy, so that every service waits the same way.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import signal
import socket
import threading
from collections.abc import Awaitable, Callable
from contextlib import suppress
from types import FrameType
from typing import Any, NoReturn, Protocol, TypeVar, cast

from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception_type, retry_if_not_exception_type

from sensr.logs import configure_logging, first_line, get_logger
from sensr.settings import Settings, load_settings

log = get_logger(__name__)
T = TypeVar("T")

FIRST_DELAY = 0.5
"""Seconds before the second attempt to reach a dependency; each later pause doubles."""

JITTER = 0.2
"""Each pause is drawn within ±20 % of its nominal length, so replicas do not retry in step."""

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(Exception):
    """A stop was requested while the service was starting; the argument names the
    dependency it was waiting for (or `start-up`)."""


def retry_delay(attempt: int, max_delay: float, draw: Callable[[float, float], float] = random.uniform) -> float:
    """The pause after failed attempt number `attempt` (1, 2, ...): 0.5 s doubling up to
    `max_delay`, within ±20 %."""
    nominal = min(FIRST_DELAY * 2 ** min(attempt - 1, 64), max_delay)
    return nominal * draw(1 - JITTER, 1 + JITTER)


def wait_for(dependency: str, attempt: Callable[[], T], stop: threading.Event, *, max_delay: float,
             errors: tuple[type[BaseException], ...], sleep: Callable[[float], object] | None = None) -> T:
    """`attempt()`'s result, calling it again after each of `errors` (what the dependency
    raises while it is not there yet) until it succeeds.

    Blocks the calling thread. Raises `Stopped` once `stop` is set (a pause ends at once
    then); any other exception propagates. `sleep` replaces the pause (tests).
    """
    def guarded() -> T:
        if stop.is_set():
            raise Stopped(dependency)
        return attempt()

    retrying = Retrying(sleep=sleep or stop.wait, **_policy(dependency, stop, max_delay, errors))
    return retrying(guarded)


async def wait_for_async(dependency: str, attempt: Callable[[], Awaitable[T]], stop: asyncio.Event, *,
                         max_delay: float, errors: tuple[type[BaseException], ...],
                         sleep: Callable[[float], Awaitable[object]] | None = None) -> T:
    """`wait_for` on the event loop: `await attempt()` until it succeeds (run blocking
    attempts with `asyncio.to_thread`)."""
    async def pause(seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def guarded() -> T:
        if stop.is_set():
            raise Stopped(dependency)
        return await attempt()

    retrying = AsyncRetrying(sleep=sleep or pause, **_policy(dependency, stop, max_delay, errors))
    return await retrying(guarded)


def _policy(dependency: str, stop: threading.Event | asyncio.Event, max_delay: float,
            errors: tuple[type[BaseException], ...]) -> dict[str, Any]:
    """tenacity's arguments for the one policy (the same for `Retrying` and `AsyncRetrying`)."""
    def log_wait(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning("waiting_for_dependency", dependency=dependency, attempt=state.attempt_number,
                    error=first_line(error), next_delay=round(state.upcoming_sleep, 2))

    def stopped(_state: RetryCallState) -> NoReturn:
        raise Stopped(dependency)

    return {"retry": retry_if_exception_type(errors) & retry_if_not_exception_type(Stopped),
            "wait": lambda state: retry_delay(state.attempt_number, max_delay),
            "stop": lambda _state: stop.is_set(),
            "before_sleep": log_wait,
            "retry_error_callback": stopped}


def kafka_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    """Whether one of the bootstrap servers (`host:port,...`) accepts a TCP connection.
    Blocks up to `timeout` per server."""
    for server in filter(None, (part.strip() for part in bootstrap.split(","))):
        host, _, port = server.rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        except OSError:
            continue
        return True
    return False


class Service(Protocol):
    """A service that serves on the main thread; built with the stop event it watches."""

    def start(self) -> None:
        """Wait for the dependencies (`wait_for`, raising `Stopped` on a stop) and get ready to serve."""

    def serve(self) -> None:
        """Serve until the stop event is set."""

    def drain(self) -> None:
        """Take no new work; finish (within a bound) the work under way."""

    def close(self) -> None:
        """Release what `start` opened, also when `start` did not finish."""


class AsyncService(Protocol):
    """A service that serves on the event loop (its server runs between `start` and `drain`)."""

    async def start(self) -> None:
        """Wait for the dependencies (`wait_for_async`, raising `Stopped` on a stop) and start serving."""

    async def drain(self) -> None:
        """Take no new work; finish (within a bound) the work under way."""

    async def close(self) -> None:
        """Release what `start` opened, also when `start` did not finish."""


def service_main(name: str, make: Callable[[Settings, Any], Service | AsyncService]) -> None:
    """A service's `main`: read the settings, configure the logs under `name`, and run
    `make(settings, stop)` with `run_service`, or `run_async_service` when its `start`
    is a coroutine (`make` is the service's class)."""
    settings = load_settings()
    configure_logging(settings.core, name)
    if inspect.iscoroutinefunction(getattr(make, "start", None)):
        run_async_service(lambda stop: cast(AsyncService, make(settings, stop)))
    else:
        run_service(lambda stop: cast(Service, make(settings, stop)))


def run_service(make: Callable[[threading.Event], Service]) -> None:
    """Run `make(stop)` through start → serve → drain → close; SIGTERM/SIGINT set `stop`.
    (The logs name the service: `sensr.logs.configure_logging` binds it.)

    A signal during `start` also raises `Stopped` in it at once: an attempt to reach a
    dependency may block for long (a Kafka bootstrap, up to 30 s), and nothing started
    yet needs finishing.
    """
    stop = threading.Event()
    starting = True

    def request_stop() -> None:
        stop.set()
        if starting:
            raise Stopped("start-up")

    install_stop_signals(request_stop, stop.is_set)
    service = make(stop)
    log.info("service_starting")
    try:
        service.start()
        starting = False
        log.info("service_serving")
        service.serve()
        log.info("service_draining")
        service.drain()
    except Stopped as waiting:
        log.info("service_stopped_while_starting", during=str(waiting))
    finally:
        log.info("service_closing")
        service.close()
        log.info("service_stopped")


def run_async_service(make: Callable[[asyncio.Event], AsyncService]) -> None:
    """`run_service` for an asyncio service: runs its own event loop (`asyncio.run`)."""
    asyncio.run(_run_async(make))


async def _run_async(make: Callable[[asyncio.Event], AsyncService]) -> None:
    stop = asyncio.Event()
    install_stop_signals(stop.set, stop.is_set, asyncio.get_running_loop())
    service = make(stop)
    log.info("service_starting")
    try:
        await service.start()
        log.info("service_serving")
        await stop.wait()
        log.info("service_draining")
        await service.drain()
    except Stopped as waiting:
        log.info("service_stopped_while_starting", during=str(waiting))
    finally:
        log.info("service_closing")
        await service.close()
        log.info("service_stopped")


def install_stop_signals(request_stop: Callable[[], None], stopping: Callable[[], bool],
                         loop: asyncio.AbstractEventLoop | None = None) -> None:
    """On SIGTERM or SIGINT call `request_stop()`; a signal that comes while `stopping()`
    already holds stops the process at once (SystemExit(128 + signal))."""
    def on_signal(signum: int, _frame: FrameType | None = None) -> None:
        name = signal.Signals(signum).name
        if stopping():
            log.warning("service_stopping_now", signal=name)
            raise SystemExit(128 + signum)
        log.info("service_stop_requested", signal=name)
        request_stop()

    for signum in STOP_SIGNALS:
        if loop is None:
            signal.signal(signum, on_signal)
        else:
            loop.add_signal_handler(signum, on_signal, signum)
