"""`sensr.background.BackgroundLoop`: the one shape of a background thread (retention and
purge in the catalog worker, clip progress and sweeps in the api, cancels in the clip
worker). A failing step is said and tried again; a stop ends the thread, also mid-pause."""

from __future__ import annotations

import threading

import pytest
import structlog

from sensr.background import BackgroundLoop


def test_a_failing_step_is_logged_and_tried_again_until_it_succeeds() -> None:
    calls: list[int] = []
    succeeded = threading.Event()

    def step(_stop: threading.Event) -> None:
        calls.append(len(calls))
        if len(calls) < 3:
            raise ConnectionError("store away\nwith details")
        succeeded.set()

    with structlog.testing.capture_logs() as logged:
        loop = BackgroundLoop("sweep", step, 0.01).start()
        assert succeeded.wait(10)
        loop.stop()
    failures = [entry for entry in logged if entry["event"] == "background_step_failed"]
    assert [(entry["loop"], entry["error"]) for entry in failures] == [("sweep", "store away")] * 2
    assert len(calls) >= 3


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_error_it_was_not_told_to_expect_ends_the_thread_loudly() -> None:
    calls: list[int] = []

    def step(_stop: threading.Event) -> None:
        calls.append(1)
        raise KeyError("a bug")

    loop = BackgroundLoop("purge", step, 0.01, errors=(ConnectionError,)).start()
    loop.join(10)
    assert not loop.is_alive()
    assert calls == [1]


def test_a_shared_stop_event_ends_the_pause_at_once() -> None:
    stop = threading.Event()
    ran = threading.Event()
    loop = BackgroundLoop("retention", lambda _stop: ran.set(), 3600, stop=stop).start()
    assert ran.wait(10)
    stop.set()
    loop.join(10)
    assert not loop.is_alive()


def test_a_follower_gets_the_stop_event_and_returns_when_it_is_set() -> None:
    seen: list[threading.Event] = []

    def follow(stop: threading.Event) -> None:
        seen.append(stop)
        stop.wait()

    loop = BackgroundLoop("cancels", follow, 1.0).start()
    loop.stop(10)
    assert len(seen) == 1 and seen[0].is_set()
    assert not loop.is_alive()
