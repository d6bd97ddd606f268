"""`sensr.broker.poll_or_wait`: a consumer loop outlives a broker that cannot be reached
(kafka-python 3 raises from `poll` while the group coordinator is away). The real broker
restart is `tests/e2e/test_faults.py::test_kafka_stopped_and_restarted_during_uploads`."""

from __future__ import annotations

import threading
from typing import Any

from kafka.errors import KafkaConnectionError

from sensr import broker


class FlakyConsumer:
    """Raises on the first `failures` polls, then returns `records`."""

    def __init__(self, failures: int, records: dict[Any, list[Any]]) -> None:
        self.failures, self.records, self.polls = failures, records, []

    def poll(self, **args: Any) -> dict[Any, list[Any]]:
        self.polls.append(args)
        if self.failures:
            self.failures -= 1
            raise KafkaConnectionError("111 ECONNREFUSED")
        return self.records


def test_a_failed_poll_is_waited_out_and_the_next_poll_returns_records(monkeypatch: Any) -> None:
    waits: list[float] = []
    stop = threading.Event()
    monkeypatch.setattr(stop, "wait", lambda seconds: waits.append(seconds) or False)
    consumer = FlakyConsumer(1, {"p0": ["record"]})
    assert broker.poll_or_wait(consumer, stop, "test", timeout_ms=10, max_records=5) == {}  # type: ignore[arg-type]
    assert waits == [broker.POLL_FAILURE_WAIT_S]
    assert broker.poll_or_wait(consumer, stop, "test", timeout_ms=10, max_records=5) == {"p0": ["record"]}  # type: ignore[arg-type]
    assert consumer.polls == [{"timeout_ms": 10, "max_records": 5}] * 2 and waits == [broker.POLL_FAILURE_WAIT_S]


def test_a_stop_cuts_the_wait_short() -> None:
    stop = threading.Event()
    stop.set()
    assert broker.poll_or_wait(FlakyConsumer(1, {}), stop, "test", timeout_ms=10) == {}  # type: ignore[arg-type]
