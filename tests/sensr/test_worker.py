"""`sensr.worker.Worker`: what every consuming worker shares. A start-up cut short closes
what it opened, in reverse order; /readyz names the dependency the loop is failing."""

from __future__ import annotations

import threading
from contextlib import ExitStack

import pytest

from sensr.lifecycle import Stopped
from sensr.settings import load_settings
from sensr.worker import Worker


class Loop:
    failing: str | None = None

    def __init__(self) -> None:
        self.ran = False

    def run(self, stop: threading.Event) -> None:
        self.ran = True


class Opening(Worker):
    name = "test_worker"
    dependencies = ("index", "kafka")

    def __init__(self, stop: threading.Event, fail_after: int | None, closed: list[str]) -> None:
        super().__init__(load_settings(), stop)
        self.fail_after, self.closed, self.loop = fail_after, closed, Loop()

    def connect(self, resources: ExitStack) -> Loop:
        for number, name in enumerate(("table", "index", "producer", "consumer")):
            if number == self.fail_after:
                raise Stopped(name)
            resources.callback(self.closed.append, name)
        return self.loop


def test_a_start_cut_short_closes_what_it_opened_in_reverse() -> None:
    closed: list[str] = []
    worker = Opening(threading.Event(), 2, closed)
    with pytest.raises(Stopped):
        worker.start()
    assert closed == ["index", "table"]
    worker.close()  # what run_service does next: nothing is closed twice
    assert closed == ["index", "table"]


def test_a_started_worker_serves_its_loop_and_closes_the_consumer_first() -> None:
    closed: list[str] = []
    worker = Opening(threading.Event(), None, closed)
    worker.start()
    assert worker.ready() == {"consuming": True, "index": True, "kafka": True}
    worker.loop.failing = "kafka"
    assert worker.ready() == {"consuming": True, "index": True, "kafka": False}
    worker.serve()
    assert worker.loop.ran
    worker.close()
    assert closed == ["consumer", "producer", "index", "table"]
