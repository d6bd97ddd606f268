"""Frames into `sensr.frames`, and the broker's acknowledgement back onto the event loop.

One kafka-python producer serves every request. `Publisher.send` hands a frame to it at
once, on the loop thread, so a stream's frames enter Kafka in the order they were split;
it never blocks, because the service warms the topic's metadata before taking uploads
(kafka-python's `send` only blocks while that metadata is unknown). The returned future
resolves when Kafka acknowledged the frame (acks=all) or fails with `PublishError` when
it did not within the bounded `ack_timeout`: then the upload gets 503. A frame that
timed out may still be written later; the client, not told 200, sends it again, so a
frame can be stored twice but is never lost after a 200 (at-least-once).

Why not `sensr.broker.wait_for_send`: it is a coroutine, and a stream wants a plain
future per frame, watched by callbacks, without a task and a `wait_for` per frame; and
it wakes the event loop once per frame, where this wakes it once per burst of answers.
For the same reason the ack timeout is one sweep over frames in send order (they all
wait equally long), not a timer per frame.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from kafka.errors import KafkaError

from ingest_http import metrics
from sensr.broker import FRAMES
from sensr.frames import FrameEvent


class PublishError(Exception):
    """Kafka did not acknowledge a frame (broker unreachable, timeout, or a send error)."""


SWEEP_INTERVAL = 0.25
"""Seconds between looks for frames past the ack timeout (so it is kept within this)."""


class Publisher:
    """Publishes frame events and reports each acknowledgement as an asyncio future."""

    def __init__(self, ack_timeout: float) -> None:
        self._producer: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ack_timeout = ack_timeout
        # Answers from the producer's I/O thread wait here; one loop wake-up takes them
        # all (a produce response acknowledges a whole batch at once).
        self._answers: deque[tuple[asyncio.Future[None], BaseException | None]] = deque()
        self._drain_scheduled = False
        # (deadline, ack) in send order, so deadlines are in order too.
        self._deadlines: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._sweep_handle: asyncio.TimerHandle | None = None
        self.in_flight = 0
        """Frames handed to the producer and not yet answered."""
        metrics.IN_FLIGHT.set_function(lambda: self.in_flight)

    def use(self, producer: Any) -> None:
        """Publish through `producer` (a KafkaProducer whose `sensr.frames` metadata is
        known). Called on the event loop, once Kafka answered, before uploads are taken."""
        self._producer = producer
        self._loop = asyncio.get_running_loop()

    def send(self, event: FrameEvent) -> asyncio.Future[None]:
        """Hand `event` to the producer now; the future settles on the broker's answer.

        Must be called on the event loop thread, after `use()`. Never raises: a send that
        fails at once gives an already-failed future.
        """
        loop = self._loop
        assert loop is not None, "Publisher.use() was not called"
        acked: asyncio.Future[None] = loop.create_future()
        try:
            record = self._producer.send(FRAMES, key=event.key(), value=event.jpeg, headers=event.headers())
        except KafkaError as error:
            metrics.PUBLISH_FAILURES.inc()
            acked.set_exception(PublishError(f"Kafka refused the frame: {error}"))
            return acked
        self.in_flight += 1
        self._deadlines.append((loop.time() + self._ack_timeout, acked))
        if self._sweep_handle is None:
            self._sweep_handle = loop.call_later(self._ack_timeout, self._sweep)
        record.add_callback(lambda _metadata: self._answer(acked, None))
        record.add_errback(lambda error: self._answer(acked, error))
        acked.add_done_callback(lambda done: self._observe(done, event))
        return acked

    async def publish(self, event: FrameEvent) -> None:
        """Send `event` and wait for its acknowledgement; raises PublishError."""
        await self.send(event)

    def _answer(self, acked: asyncio.Future[None], error: BaseException | None) -> None:
        """Producer I/O thread: queue the broker's answer and wake the loop once."""
        self._answers.append((acked, error))
        if not self._drain_scheduled:
            self._drain_scheduled = True
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        self._drain_scheduled = False  # before draining: a later answer schedules a new drain
        answers = self._answers
        while answers:
            acked, error = answers.popleft()
            if acked.done():
                continue  # timed out already
            if error is None:
                acked.set_result(None)
            else:
                acked.set_exception(PublishError(f"Kafka did not store the frame: {error}"))

    def _sweep(self) -> None:
        """Fail the frames past their deadline; forget the answered ones."""
        assert self._loop is not None
        now = self._loop.time()
        deadlines = self._deadlines
        while deadlines and (deadlines[0][1].done() or deadlines[0][0] <= now):
            _deadline, acked = deadlines.popleft()
            if not acked.done():
                acked.set_exception(PublishError(f"Kafka did not acknowledge within {self._ack_timeout:g} s"))
        self._sweep_handle = (self._loop.call_at(max(deadlines[0][0], now + SWEEP_INTERVAL), self._sweep)
                              if deadlines else None)

    def _observe(self, acked: asyncio.Future[None], event: FrameEvent) -> None:
        self.in_flight -= 1
        if acked.cancelled() or acked.exception() is not None:
            metrics.PUBLISH_FAILURES.inc()
            return
        latency, frames, frame_bytes = metrics.acknowledged(event.source)
        latency.observe(max(time.time() - event.timestamp_us / 1e6, 0.0))
        frames.inc()
        frame_bytes.inc(len(event.jpeg))
