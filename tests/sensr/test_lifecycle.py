"""The lifecycle every service shares (sensr/lifecycle.py): one backoff policy for the
dependencies awaited at start-up, one Kafka reachability check, and one signal → drain →
stop sequence. Pauses are injected: nothing here waits for real."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
import structlog

from sensr.lifecycle import (Stopped, kafka_reachable, retry_delay, run_async_service, run_service, wait_for,
                             wait_for_async)


@pytest.fixture
def logged() -> Iterator[list[dict[str, object]]]:
    with structlog.testing.capture_logs() as entries:
        yield entries


def failing(times: int, error: BaseException, result: str = "connected") -> Callable[[], str]:
    """An attempt that raises `error` `times` times, then returns `result`."""
    calls = iter(range(times + 1))

    def attempt() -> str:
        if next(calls) < times:
            raise error
        return result

    return attempt


def test_the_pause_doubles_from_half_a_second_up_to_the_maximum() -> None:
    nominal = [retry_delay(attempt, max_delay=5.0, draw=lambda low, high: 1.0) for attempt in range(1, 8)]
    assert nominal == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert retry_delay(10_000, max_delay=5.0, draw=lambda low, high: 1.0) == 5.0  # no overflow after long waits


def test_the_pause_is_jittered_within_a_fifth() -> None:
    assert retry_delay(3, max_delay=30.0, draw=lambda low, high: low) == pytest.approx(1.6)
    assert retry_delay(3, max_delay=30.0, draw=lambda low, high: high) == pytest.approx(2.4)
    assert {round(retry_delay(1, 30.0), 6) for _ in range(20)} != {0.5}  # drawn, not fixed


def test_wait_for_retries_the_named_errors_with_backoff_and_says_what_it_waits_for(logged) -> None:
    slept: list[float] = []
    result = wait_for("index database", failing(4, ConnectionRefusedError("refused\ndetails")), threading.Event(),
                      max_delay=1.5, errors=(OSError,), sleep=slept.append)
    assert result == "connected"
    assert len(slept) == 4
    assert all(0.8 * nominal <= pause <= 1.2 * nominal for pause, nominal in zip(slept, [0.5, 1.0, 1.5, 1.5]))
    waits = [entry for entry in logged if entry["event"] == "waiting_for_dependency"]
    assert [entry["attempt"] for entry in waits] == [1, 2, 3, 4]
    assert all(entry["dependency"] == "index database" and entry["error"] == "refused" for entry in waits)
    assert [entry["next_delay"] for entry in waits] == [round(pause, 2) for pause in slept]


def test_wait_for_lets_other_errors_through() -> None:
    with pytest.raises(ValueError):
        wait_for("bucket", failing(1, ValueError("bad name")), threading.Event(), max_delay=1.0, errors=(OSError,),
                 sleep=lambda _: pytest.fail("no pause for an error that is not waited out"))


def test_wait_for_gives_up_only_when_asked_to_stop() -> None:
    stop = threading.Event()
    attempts = 0

    def attempt() -> None:
        nonlocal attempts
        attempts += 1
        raise TimeoutError("camera table not read to its end")

    def pause(_seconds: float) -> None:
        if attempts == 50:
            stop.set()  # the signal comes during a pause: no attempt after it

    with pytest.raises(Stopped, match="camera table"):
        wait_for("camera table", attempt, stop, max_delay=10.0, errors=(TimeoutError,), sleep=pause)
    assert attempts == 50


def test_wait_for_does_not_try_once_stopped() -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(Stopped):
        wait_for("kafka", lambda: pytest.fail("attempted after the stop"), stop, max_delay=1.0, errors=(OSError,))


def test_wait_for_async_follows_the_same_policy(logged) -> None:
    async def scenario() -> tuple[str, list[float]]:
        slept: list[float] = []

        async def pause(seconds: float) -> None:
            slept.append(seconds)

        attempt = failing(3, OSError("no route"))

        async def connect() -> str:
            return attempt()

        result = await wait_for_async("kafka", connect, asyncio.Event(), max_delay=1.0, errors=(OSError,), sleep=pause)
        return result, slept

    result, slept = asyncio.run(scenario())
    assert result == "connected" and len(slept) == 3 and 0.4 <= slept[0] <= 0.6 and slept[2] <= 1.2
    assert [entry["dependency"] for entry in logged if entry["event"] == "waiting_for_dependency"] == ["kafka"] * 3


def test_wait_for_async_ends_its_pause_when_stopped() -> None:
    """The real pause (no injection): the stop wakes it at once, however long it was."""
    async def scenario() -> None:
        stop = asyncio.Event()

        async def refuse() -> None:
            asyncio.get_running_loop().call_soon(stop.set)
            raise OSError("refused")

        await asyncio.wait_for(wait_for_async("kafka", refuse, stop, max_delay=3600.0, errors=(OSError,)), 30)

    with pytest.raises(Stopped):
        asyncio.run(scenario())


@pytest.mark.parametrize("reachable", [True, False])
def test_kafka_reachable_is_a_tcp_check(reachable: bool) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        if not reachable:
            server.close()
        assert kafka_reachable(f"127.0.0.1:{port}", timeout=5.0) is reachable


def test_kafka_reachable_tries_each_bootstrap_server() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed, socket.create_server(("127.0.0.1", 0)) as server:
        dead = closed.getsockname()[1]
        closed.close()
        assert kafka_reachable(f"127.0.0.1:{dead}, 127.0.0.1:{server.getsockname()[1]}", timeout=5.0)


class Recorder:
    """A service that records its phases; `on_serve` runs while it serves."""

    def __init__(self, stop: threading.Event, phases: list[str], on_serve: Callable[[], None],
                 start: Callable[[threading.Event], None] = lambda _stop: None) -> None:
        self.stop, self.phases, self.on_serve, self._start = stop, phases, on_serve, start

    def start(self) -> None:
        self.phases.append("start")
        self._start(self.stop)

    def serve(self) -> None:
        self.phases.append("serve")
        self.on_serve()
        assert self.stop.wait(30), "the signal never set the stop event"

    def drain(self) -> None:
        self.phases.append("drain")

    def close(self) -> None:
        self.phases.append("close")


@pytest.fixture
def restore_signals() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_a_signal_drains_then_closes(restore_signals, logged) -> None:
    phases: list[str] = []
    run_service(lambda stop: Recorder(stop, phases, lambda: os.kill(os.getpid(), signal.SIGTERM)))
    assert phases == ["start", "serve", "drain", "close"]
    assert [entry["event"] for entry in logged if entry["event"].startswith("service_")] == [
        "service_starting", "service_serving", "service_stop_requested", "service_draining", "service_closing",
        "service_stopped"]
    assert next(entry["signal"] for entry in logged if entry["event"] == "service_stop_requested") == "SIGTERM"


def test_a_signal_during_start_up_ends_the_attempt_under_way_and_closes(restore_signals, logged) -> None:
    """The attempt is interrupted, not waited for: one to reach Kafka can block for 30 s."""
    phases: list[str] = []

    def start(stop: threading.Event) -> None:
        def attempt() -> None:
            os.kill(os.getpid(), signal.SIGINT)
            pytest.fail("the attempt went on after the signal")

        wait_for("object store", attempt, stop, max_delay=1.0, errors=(OSError,), sleep=lambda _: None)

    run_service(lambda stop: Recorder(stop, phases, lambda: None, start))
    assert phases == ["start", "close"]
    assert [entry["event"] for entry in logged if entry["event"].startswith("service_")] == [
        "service_starting", "service_stop_requested", "service_stopped_while_starting", "service_closing",
        "service_stopped"]


def test_a_second_signal_stops_at_once(restore_signals) -> None:
    phases: list[str] = []

    def signal_twice() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit) as exited:
        run_service(lambda stop: Recorder(stop, phases, signal_twice))
    assert exited.value.code == 128 + signal.SIGTERM
    assert phases == ["start", "serve", "close"]  # no drain, but what was opened is closed


class AsyncRecorder:
    def __init__(self, stop: asyncio.Event, phases: list[str]) -> None:
        self.stop, self.phases = stop, phases

    async def start(self) -> None:
        self.phases.append("start")
        asyncio.get_running_loop().call_later(0.01, os.kill, os.getpid(), signal.SIGTERM)

    async def drain(self) -> None:
        self.phases.append(f"drain (stop set: {self.stop.is_set()})")

    async def close(self) -> None:
        self.phases.append("close")


def test_an_asyncio_service_serves_until_the_signal_then_drains_and_closes(logged) -> None:
    phases: list[str] = []
    run_async_service(lambda stop: AsyncRecorder(stop, phases))
    assert phases == ["start", "drain (stop set: True)", "close"]
    assert [entry["event"] for entry in logged if entry["event"].startswith("service_")] == [
        "service_starting", "service_serving", "service_stop_requested", "service_draining", "service_closing",
        "service_stopped"]


class AsyncWaiter(AsyncRecorder):
    """Waits for a database that never answers; the signal comes during the wait."""

    async def start(self) -> None:
        self.phases.append("start")

        async def attempt() -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            raise OSError("database not there yet")

        await wait_for_async("index database", attempt, self.stop, max_delay=3600.0, errors=(OSError,))


def test_a_signal_during_an_asyncio_start_up_ends_the_wait_and_closes(logged) -> None:
    phases: list[str] = []
    run_async_service(lambda stop: AsyncWaiter(stop, phases))
    assert phases == ["start", "close"]
    assert [(entry["event"], entry.get("during")) for entry in logged if entry["event"].startswith("service_")] == [
        ("service_starting", None), ("service_stop_requested", None),
        ("service_stopped_while_starting", "index database"), ("service_closing", None), ("service_stopped", None)]
