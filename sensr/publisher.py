"""Frames into `sensr.frames`, each answered only once Kafka has it: the rule every
producer of frames follows, in one place.

The rule: a frame is handed to the producer at once, and its uploader is answered

* *stored* once Kafka acknowledged it (acks=all),
* *refused* (`kafka_error`) when the producer fails it, or
* *refused* (`kafka_timeout`) when no answer came within `ack_timeout`;

and a frame refused is never sent afterwards: the uploader, told "not stored", sends it
again, and a first copy written later would be stored twice. The producer gives a
record up `delivery_timeout` after it was sent, a little before `ack_timeout` ends (see
`sensr.broker.producer_timeouts`), so a record handed over at once is acknowledged or
given up before the refusal. A record can only be handed over late when the producer
does not know the topic's partitions yet (kafka-python's `send` then blocks until it
does): such frames go to a sender thread, which waits for the metadata and sends only
while `delivery_timeout` still fits before the refusal; later than that, the frame is
refused without being sent.

`FramePublisher` runs on one event loop, reached through a small `EventLoop` adapter:
`AsyncioLoop` for asyncio (and Tornado, which runs on it), `ingest_ftp.handoff.LoopHandoff`
for pyftpdlib's IOLoop. Answers arrive on the producer's I/O thread and hop onto the loop
in bursts (one wake-up takes every answer queued meanwhile: a produce response
acknowledges a whole batch); the ack timeout is one sweep over frames in send order, not
a timer per frame. The loop's clock is the publisher's clock, so tests drive the timing
with a fake loop instead of waiting.

The publisher also says whether a frame sent now would be delivered (`blockers()`), for
the edges' `/readyz`: a ready edge takes an upload at once.

Metrics (one family for every edge, labelled by `edge` and `source`):
`sensr_frames_published_total` by outcome, `sensr_frames_published_bytes_total`,
`sensr_frame_ack_seconds` (from the hand-over to the publisher to Kafka's acknowledgement
on the loop), `sensr_frames_late_acks_total`, `sensr_frames_in_flight`.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from prometheus_client import Counter, Gauge, Histogram

from sensr.broker import FRAMES, LINGER_MS, producer_timeouts
from sensr.frames import FrameEvent
from sensr.kafka_compat import ProducerState
from sensr.logs import get_logger

log = get_logger(__name__)

SWEEP_INTERVAL = 0.25
"""Seconds between looks for frames past the ack timeout (so a refusal comes that late at most)."""

STALL_AFTER = 3.0
"""Seconds after which a frame still awaiting its acknowledgement, or metadata not
refreshed (the producer asks every second), means Kafka is not delivering now."""

PUBLISHED = Counter("sensr_frames_published", "Frames handed to Kafka by an edge, by edge (http, ftp), source "
                    "(http, mjpeg, ftp) and outcome: stored (acknowledged, answered 200/226), kafka_error (the "
                    "producer failed it), kafka_timeout (no acknowledgement within SENSR_KAFKA_REQUEST_TIMEOUT_MS).",
                    ["edge", "source", "outcome"])
PUBLISHED_BYTES = Counter("sensr_frames_published_bytes", "JPEG bytes acknowledged by Kafka, by edge and source.",
                          ["edge", "source"])
ACK_SECONDS = Histogram("sensr_frame_ack_seconds", "Seconds from a frame's hand-over to the publisher to Kafka's "
                        "acknowledgement, by edge and source.", ["edge", "source"],
                        buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10))
LATE_ACKS = Counter("sensr_frames_late_acks", "Frames Kafka acknowledged after their uploader had been answered "
                    "with a timeout (stored, and the uploader was told to send them again), by edge.", ["edge"])
IN_FLIGHT = Gauge("sensr_frames_in_flight", "Frames handed to the publisher and not answered yet, by edge.", ["edge"])


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class EventLoop(Protocol):
    """What the publisher needs of the loop it runs on (and its clock)."""

    def time(self) -> float:
        """Monotonic seconds; safe to call from any thread."""

    def call_later(self, delay: float, callback: Callable[[], object]) -> Cancellable:
        """Run `callback` on the loop `delay` seconds from now (loop thread only)."""

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> None:
        """Run `callback(*args)` on the loop soon; safe from any thread."""


class AsyncioLoop:
    """`EventLoop` over an asyncio loop (Tornado's included)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def time(self) -> float:
        return self._loop.time()

    def call_later(self, delay: float, callback: Callable[[], object]) -> Cancellable:
        return self._loop.call_later(delay, callback)

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> None:
        self._loop.call_soon_threadsafe(callback, *args)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a frame was not stored: `reason` is kafka_error or kafka_timeout."""

    reason: str
    detail: str


Answer = Callable[[Refusal | None], None]
"""Called once on the loop: None when the frame is stored, else why it is not."""


@dataclass(eq=False, slots=True)
class _Attempt:
    event: FrameEvent
    answer: Answer
    on_stored: Callable[[], None] | None
    started: float
    deadline: float
    answered: bool = field(default=False)


class FramePublisher:
    """Publishes frame events for one edge through one producer, on one event loop.

    `publish` and `close` are called on the loop thread; `blockers` from any thread.
    """

    def __init__(self, loop: EventLoop, edge: str, ack_timeout: float, delivery_timeout: float | None = None) -> None:
        """`delivery_timeout`: how long the producer holds a record before giving it up;
        by default what `sensr.broker.make_producer` configures for this `ack_timeout`."""
        self._loop = loop
        self.edge = edge
        self.ack_timeout = ack_timeout
        if delivery_timeout is None:
            delivery_timeout = producer_timeouts(round(ack_timeout * 1000), LINGER_MS)[0] / 1000
        self._delivery_timeout = delivery_timeout
        self._producer: Any = None
        self._state: ProducerState | None = None
        self._attempts: deque[_Attempt] = deque()  # unanswered (and a few answered) attempts, in publish order
        self._answers: deque[tuple[_Attempt, BaseException | None]] = deque()
        self._drain_scheduled = False
        self._sweep_handle: Cancellable | None = None
        self._outbox: queue.SimpleQueue[_Attempt | None] = queue.SimpleQueue()
        self._sender: threading.Thread | None = None
        self._last_blockers: list[str] = []
        self.in_flight = 0
        """Frames published and not answered yet (their uploaders await the answer)."""
        IN_FLIGHT.labels(edge).set_function(lambda: self.in_flight)

    def use(self, producer: Any, state: ProducerState | None = None) -> None:
        """Publish through `producer` (a `KafkaProducer`, from `sensr.broker.make_producer`).

        `state` lets the publisher see, without blocking, whether `send` would wait for
        metadata (then the frame goes through the sender thread) and whether Kafka could
        deliver now (`blockers`). Without it the caller promises that the producer knows
        `sensr.frames`' partitions, and `blockers` sees only the frames awaiting Kafka.
        """
        self._producer = producer
        self._state = state

    def publish(self, event: FrameEvent, answer: Answer, on_stored: Callable[[], None] | None = None) -> None:
        """Hand `event` to Kafka; `answer` follows on the loop, once. `on_stored` runs on
        the loop whenever Kafka acknowledges the frame, also after a timeout's refusal."""
        assert self._producer is not None, "FramePublisher.use() was not called"
        now = self._loop.time()
        attempt = _Attempt(event, answer, on_stored, started=now, deadline=now + self.ack_timeout)
        self.in_flight += 1
        self._attempts.append(attempt)
        if self._sweep_handle is None:
            self._sweep_handle = self._loop.call_later(self.ack_timeout, self._sweep)
        if self._state is not None and not self._state.partitions_known():
            self._send_later(attempt)
            return
        try:
            self._send(attempt)
        except Exception as error:  # KafkaTimeoutError (no metadata), IllegalStateError (closed), ...
            self._refuse(attempt, Refusal("kafka_error", f"Kafka refused the frame ({_describe(error)})"))

    def blockers(self) -> list[str]:
        """Why a frame published now would not be stored at once; empty when it would.

        The producer's view (`ProducerState.delivery_blockers`) and `frames_stuck`: a frame
        has waited over `STALL_AFTER` seconds for its acknowledgement.
        """
        if self._producer is None:
            return ["no_producer"]
        blockers = self._state.delivery_blockers(STALL_AFTER) if self._state is not None else []
        try:
            oldest: _Attempt | None = self._attempts[0]
        except IndexError:  # nothing awaits Kafka
            oldest = None
        if oldest is not None and not oldest.answered and self._loop.time() - oldest.started > STALL_AFTER:
            blockers.append("frames_stuck")
        if blockers != self._last_blockers:
            log.info("kafka_delivery", edge=self.edge, ready=not blockers, blockers=blockers)
            self._last_blockers = blockers
        return blockers

    def close(self, timeout: float = 10.0) -> None:
        """Stop the sender thread (frames it still holds are never sent)."""
        if self._sender is not None:
            self._outbox.put(None)
            self._sender.join(timeout)

    # -- sending (loop, or the sender thread) ------------------------------------------

    def _send_later(self, attempt: _Attempt) -> None:
        if self._sender is None:
            self._sender = threading.Thread(target=self._send_loop, name=f"frame-sender-{self.edge}", daemon=True)
            self._sender.start()
        self._outbox.put(attempt)

    def _send_loop(self) -> None:
        """Sender thread: wait for the topic's metadata, then send what still may be sent."""
        while (attempt := self._outbox.get()) is not None:
            try:
                self._producer.partitions_for(FRAMES)  # waits for the metadata, at most max_block_ms
            except Exception as error:  # KafkaTimeoutError: no metadata in time
                self._answered(attempt, error)
                continue
            if self._loop.time() - attempt.started + self._delivery_timeout > self.ack_timeout:
                # The producer could still write it after the uploader is told it failed.
                self._answered(attempt, _MetadataTooLate("not sent: Kafka's metadata came too late"))
                continue
            try:
                self._send(attempt)
            except Exception as error:  # as in publish(), answered on the loop
                self._answered(attempt, error)

    def _send(self, attempt: _Attempt) -> None:
        """Hand the frame to the producer; raises what `KafkaProducer.send` raises."""
        event = attempt.event
        future = self._producer.send(FRAMES, key=event.key(), value=event.jpeg, headers=event.headers())
        future.add_callback(lambda _metadata: self._answered(attempt, None))
        future.add_errback(lambda error: self._answered(attempt, error))

    def _answered(self, attempt: _Attempt, error: BaseException | None) -> None:
        """Any thread: queue Kafka's answer and wake the loop once for all queued."""
        self._answers.append((attempt, error))
        if not self._drain_scheduled:
            self._drain_scheduled = True
            self._loop.call_soon_threadsafe(self._drain)

    # -- the loop thread ---------------------------------------------------------------

    def _drain(self) -> None:
        self._drain_scheduled = False  # before draining: a later answer schedules a new drain
        answers = self._answers
        while answers:
            attempt, error = answers.popleft()
            if error is None:
                self._stored(attempt)
            else:
                self._refuse(attempt, Refusal("kafka_error", f"Kafka did not store the frame ({_describe(error)})"))
        attempts = self._attempts
        while attempts and attempts[0].answered:
            attempts.popleft()

    def _stored(self, attempt: _Attempt) -> None:
        event = attempt.event
        if attempt.on_stored is not None:
            attempt.on_stored()
        if attempt.answered:  # refused (timeout) already: counted there
            LATE_ACKS.labels(self.edge).inc()
            log.warning("kafka_late_ack", edge=self.edge, camera=event.camera, frame_id=event.frame_id,
                        filename=event.filename)
            return
        histogram, counter, byte_counter = _stored_metrics(self.edge, event.source)
        histogram.observe(self._loop.time() - attempt.started)
        counter.inc()
        byte_counter.inc(len(event.jpeg))
        self._answer(attempt, None)

    def _refuse(self, attempt: _Attempt, refusal: Refusal) -> None:
        if attempt.answered:
            return
        event = attempt.event
        PUBLISHED.labels(self.edge, event.source, refusal.reason).inc()
        log.warning("frame_not_stored", edge=self.edge, camera=event.camera, frame_id=event.frame_id,
                    filename=event.filename, reason=refusal.reason, detail=refusal.detail)
        self._answer(attempt, refusal)

    def _answer(self, attempt: _Attempt, refusal: Refusal | None) -> None:
        attempt.answered = True
        self.in_flight -= 1
        try:
            attempt.answer(refusal)
        except Exception:  # one failing uploader must not keep the others from their answers
            log.exception("answer_failed", edge=self.edge, camera=attempt.event.camera)

    def _sweep(self) -> None:
        """Refuse the frames past their deadline; forget the answered ones."""
        now = self._loop.time()
        attempts = self._attempts
        while attempts and (attempts[0].answered or attempts[0].deadline <= now):
            attempt = attempts.popleft()
            self._refuse(attempt, Refusal("kafka_timeout", f"Kafka did not acknowledge it within {self.ack_timeout:g} s"))
        self._sweep_handle = (self._loop.call_later(max(attempts[0].deadline - now, SWEEP_INTERVAL), self._sweep)
                              if attempts else None)


class _MetadataTooLate(Exception):
    """A frame not sent because the topic's metadata came too late to send it safely."""


def _describe(error: BaseException) -> str:
    """`Type: message` on one line, short enough for an FTP reply (kafka-python's errors
    name their type in their message already)."""
    name, said = type(error).__name__, " ".join(str(error).split())[:200]
    return said if said.startswith(name) else f"{name}: {said}" if said else name


@cache
def _stored_metrics(edge: str, source: str) -> tuple[Histogram, Counter, Counter]:
    """The children for one edge and source (labels resolved once: this runs per frame)."""
    return ACK_SECONDS.labels(edge, source), PUBLISHED.labels(edge, source, "stored"), PUBLISHED_BYTES.labels(edge, source)
