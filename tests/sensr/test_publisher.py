"""sensr.publisher's rule on its own, on a loop whose clock the test moves (no real waits,
no Kafka): ack -> stored, error -> refused, timeout -> refused and the frame never sent
after it, and what readiness sees."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError
from kafka.future import Future
from prometheus_client import REGISTRY

from sensr.frames import FrameEvent
from sensr.publisher import STALL_AFTER, FramePublisher, Refusal
from tests.support.harness import eventually
from tests.support.jpegs import make_jpeg

ACK_TIMEOUT = 10.0
DELIVERY_TIMEOUT = 9.75


class ManualLoop:
    """An `EventLoop` whose time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()
        self._soon: deque[tuple[Callable[..., object], tuple[Any, ...]]] = deque()

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], object]) -> "_Timer":
        timer = _Timer(callback)
        heapq.heappush(self._timers, (self.now + delay, next(self._order), timer))
        return timer

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> None:
        self._soon.append((callback, args))

    @property
    def has_work(self) -> bool:
        return bool(self._soon)

    def run_ready(self) -> None:
        while self._soon:
            callback, args = self._soon.popleft()
            callback(*args)

    def advance(self, seconds: float) -> None:
        """Move the clock, running the callbacks and timers due on the way, in order."""
        end = self.now + seconds
        self.run_ready()
        while self._timers and self._timers[0][0] <= end:
            when, _, timer = heapq.heappop(self._timers)
            self.now = when
            if not timer.cancelled:
                timer.callback()
            self.run_ready()
        self.now = end


class _Timer:
    def __init__(self, callback: Callable[[], object]) -> None:
        self.callback, self.cancelled = callback, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeProducer:
    """Records sends, each with a kafka-python future the test completes; `partitions_for`
    (the sender thread's wait for metadata) waits for `metadata_arrives`."""

    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[tuple[FrameEvent, Future]] = []
        self.refuse = refuse
        self.metadata_arrives = threading.Event()

    def send(self, topic: str, key: bytes, value: bytes, headers: Any) -> Future:
        if self.refuse:
            raise KafkaTimeoutError("Failed to update metadata")
        future = Future()
        self.sent.append((FrameEvent.from_record(key, value, headers), future))
        return future

    def partitions_for(self, topic: str) -> set[int]:
        self.metadata_arrives.wait(30)
        return {0}


class FakeState:
    """Stands in for `sensr.kafka_compat.ProducerState`."""

    def __init__(self) -> None:
        self.known = True
        self.blockers: list[str] = []

    def partitions_known(self) -> bool:
        return self.known

    def delivery_blockers(self, stale_after: float) -> list[str]:
        return list(self.blockers)


class Answers:
    def __init__(self) -> None:
        self.got: list[Refusal | None] = []
        self.stored = 0

    def answer(self, refusal: Refusal | None) -> None:
        self.got.append(refusal)

    def on_stored(self) -> None:
        self.stored += 1


@pytest.fixture
def loop() -> ManualLoop:
    return ManualLoop()


@pytest.fixture
def producer() -> FakeProducer:
    return FakeProducer()


@pytest.fixture
def state() -> FakeState:
    return FakeState()


@pytest.fixture
def publisher(loop: ManualLoop, producer: FakeProducer, state: FakeState) -> FramePublisher:
    publisher = FramePublisher(loop, "test", ACK_TIMEOUT, DELIVERY_TIMEOUT)
    publisher.use(producer, state)  # type: ignore[arg-type]
    yield publisher
    producer.metadata_arrives.set()
    publisher.close(timeout=5)


def publish(publisher: FramePublisher, seed: int = 0) -> Answers:
    answers = Answers()
    publisher.publish(FrameEvent.new("cam1", make_jpeg(16, 16, seed=seed), "http", "127.0.0.1"),
                      answers.answer, answers.on_stored)
    return answers


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"edge": "test", **labels}) or 0.0


def test_an_acknowledged_frame_is_answered_stored(loop: ManualLoop, producer: FakeProducer,
                                                  publisher: FramePublisher) -> None:
    stored = sample("sensr_frames_published_total", source="http", outcome="stored")
    waited = sample("sensr_frame_ack_seconds_sum", source="http")
    answers = publish(publisher)
    assert len(producer.sent) == 1 and answers.got == [] and publisher.in_flight == 1
    loop.advance(0.04)
    threading.Thread(target=producer.sent[0][1].success, args=("metadata",)).start()  # the producer's I/O thread
    eventually(lambda: loop.has_work, timeout=10)
    loop.run_ready()
    assert answers.got == [None] and answers.stored == 1 and publisher.in_flight == 0
    assert sample("sensr_frames_published_total", source="http", outcome="stored") == stored + 1
    assert sample("sensr_frame_ack_seconds_sum", source="http") - waited == pytest.approx(0.04)  # the loop's clock


def test_a_frame_the_producer_fails_is_refused(loop: ManualLoop, producer: FakeProducer,
                                               publisher: FramePublisher) -> None:
    answers = publish(publisher)
    producer.sent[0][1].failure(KafkaTimeoutError("Batch expired"))
    loop.run_ready()
    assert answers.got == [Refusal("kafka_error", "Kafka did not store the frame (KafkaTimeoutError: Batch expired)")]
    assert answers.stored == 0 and publisher.in_flight == 0


def test_a_send_refused_at_once_is_refused(loop: ManualLoop, publisher: FramePublisher,
                                           producer: FakeProducer) -> None:
    producer.refuse = True
    answers = publish(publisher)
    assert [refusal.reason for refusal in answers.got] == ["kafka_error"]  # type: ignore[union-attr]
    assert "refused" in answers.got[0].detail  # type: ignore[union-attr]


def test_no_answer_within_the_timeout_is_a_refusal_and_a_late_ack_is_remembered(
        loop: ManualLoop, producer: FakeProducer, publisher: FramePublisher) -> None:
    late = sample("sensr_frames_late_acks_total")
    answers = publish(publisher)
    loop.advance(ACK_TIMEOUT - 0.01)
    assert answers.got == []  # never before the deadline
    loop.advance(0.02)
    assert answers.got == [Refusal("kafka_timeout", "Kafka did not acknowledge it within 10 s")]
    assert publisher.in_flight == 0
    producer.sent[0][1].success("metadata")  # Kafka wrote it after all
    loop.run_ready()
    assert answers.got == [Refusal("kafka_timeout", "Kafka did not acknowledge it within 10 s")]  # answered once
    assert answers.stored == 1  # ... but the edge learns it is stored (ingest_ftp answers a re-upload 226)
    assert sample("sensr_frames_late_acks_total") == late + 1


def test_one_sweep_answers_frames_in_send_order(loop: ManualLoop, producer: FakeProducer,
                                                publisher: FramePublisher) -> None:
    first = publish(publisher, seed=1)
    loop.advance(1.0)
    second = publish(publisher, seed=2)
    producer.sent[1][1].success("metadata")
    loop.advance(ACK_TIMEOUT - 1.5)
    assert first.got == [] and second.got == [None]
    loop.advance(0.6)
    assert [refusal.reason for refusal in first.got] == ["kafka_timeout"]  # type: ignore[union-attr]


def test_a_frame_refused_while_waiting_for_metadata_is_never_sent(
        loop: ManualLoop, producer: FakeProducer, state: FakeState, publisher: FramePublisher) -> None:
    state.known = False  # send() would block: the frame goes to the sender thread, which waits
    answers = publish(publisher)
    loop.advance(ACK_TIMEOUT + 1)
    assert [refusal.reason for refusal in answers.got] == ["kafka_timeout"]  # type: ignore[union-attr]
    producer.metadata_arrives.set()
    eventually(lambda: loop.has_work, timeout=10)  # the sender thread has decided
    loop.run_ready()
    assert producer.sent == [] and len(answers.got) == 1


def test_a_frame_whose_metadata_comes_too_late_to_send_safely_is_refused_unsent(
        loop: ManualLoop, producer: FakeProducer, state: FakeState, publisher: FramePublisher) -> None:
    state.known = False
    answers = publish(publisher)
    loop.advance(ACK_TIMEOUT - DELIVERY_TIMEOUT + 0.01)  # sent now, the producer could outlive the deadline
    producer.metadata_arrives.set()
    eventually(lambda: loop.has_work, timeout=10)
    loop.run_ready()
    assert producer.sent == []
    assert answers.got[0].reason == "kafka_error" and "metadata came too late" in answers.got[0].detail  # type: ignore[union-attr]


def test_a_frame_whose_metadata_comes_in_time_is_sent_from_the_thread(
        loop: ManualLoop, producer: FakeProducer, state: FakeState, publisher: FramePublisher) -> None:
    state.known = False
    answers = publish(publisher)
    loop.advance(ACK_TIMEOUT - DELIVERY_TIMEOUT - 0.01)
    producer.metadata_arrives.set()
    eventually(lambda: producer.sent, timeout=10)
    producer.sent[0][1].success("metadata")
    loop.run_ready()
    assert answers.got == [None]


def test_a_send_refused_on_the_sender_thread_is_answered_on_the_loop(
        loop: ManualLoop, producer: FakeProducer, state: FakeState, publisher: FramePublisher) -> None:
    state.known, producer.refuse = False, True
    answers = publish(publisher)
    producer.metadata_arrives.set()
    eventually(lambda: loop.has_work, timeout=10)
    assert answers.got == []  # nothing answered from the sender thread itself
    loop.run_ready()
    assert [refusal.reason for refusal in answers.got] == ["kafka_error"]  # type: ignore[union-attr]


def test_blockers_say_when_a_frame_would_not_be_stored_now(loop: ManualLoop, producer: FakeProducer,
                                                           state: FakeState, publisher: FramePublisher) -> None:
    assert publisher.blockers() == []
    state.blockers = ["leader_unreachable"]
    assert publisher.blockers() == ["leader_unreachable"]
    state.blockers = []
    publish(publisher)
    loop.advance(STALL_AFTER - 0.1)
    assert publisher.blockers() == []  # an ack may take a moment
    loop.advance(0.2)
    assert publisher.blockers() == ["frames_stuck"]
    producer.sent[0][1].success("metadata")
    loop.run_ready()
    assert publisher.blockers() == []


def test_a_publisher_without_a_producer_is_not_ready(loop: ManualLoop) -> None:
    assert FramePublisher(loop, "test", ACK_TIMEOUT).blockers() == ["no_producer"]
