"""Publishing received frames to `sensr.frames` without ever blocking the FTP loop.

`publish()` is called on the IOLoop thread and returns at once; its `done` callback runs
later on the same thread with the outcome, which the handler turns into `226` or an
error reply. In between:

* on the usual path `KafkaProducer.send()` runs on the loop itself: once the producer
  has the topic's metadata, kafka-python 3.0's send() only appends to its accumulator and
  never blocks. Without metadata it would wait up to `max_block_ms`, so then the attempt
  goes to a sender thread, which waits for the metadata instead. (Not always using the
  thread saves a hop per frame, and each hop costs latency when the machine is busy.)
* the producer's I/O thread completes the future; the callbacks hop back onto the loop
  through `LoopHandoff`;
* a loop timer answers `kafka_timeout` if Kafka has not acknowledged in time.

A camera told "not stored" must not find its frame published as well (it uploads it
again, maybe under a new name). The producer gives a record up `delivery_timeout`
after it was sent, a little before the loop timer fires (see
`sensr.broker.producer_timeouts`), so a record sent at once is acknowledged or given up
before the answer. The sender thread therefore sends only while that still holds: an
attempt whose metadata came later than `timeout - delivery_timeout` after it began is
answered `kafka_error` without being sent. (A record given up by the producer can still
have reached the broker, its acknowledgement lost; the re-upload memory below covers a
camera that sends the same file again.)

Exactly-once effect for re-uploads: a key (camera, final name, bytes) acknowledged within
the re-upload window is answered at once without sending; a key being published right
now gets the same outcome as the attempt under way.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaTimeoutError
from pyftpdlib.ioloop import IOLoop

from ingest_ftp import metrics
from ingest_ftp.handoff import LoopHandoff
from ingest_ftp.recent import RecentUploads, UploadKey
from sensr.broker import FRAMES, close_quietly
from sensr.frames import FrameEvent
from sensr.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a publish ended. `reason` (kafka_error, kafka_timeout) is set when not ok."""

    ok: bool
    reupload: bool = False
    reason: str | None = None
    detail: str = ""


Done = Callable[[Outcome], None]


@dataclass(eq=False, slots=True)
class _Attempt:
    key: UploadKey
    event: FrameEvent
    waiters: list[Done]
    started: float = field(default_factory=time.monotonic)
    timer: Any = None
    settled: bool = False


class FramePublisher:
    """Sends frames with one producer; all public methods run on the IOLoop thread."""

    def __init__(self, producer: KafkaProducer, ioloop: IOLoop, recent: RecentUploads, timeout: float,
                 delivery_timeout: float) -> None:
        self._producer = producer
        self._ioloop = ioloop
        self._handoff = LoopHandoff(ioloop)
        self._recent = recent
        self._timeout = timeout
        self._delivery_timeout = delivery_timeout
        self._in_flight: dict[UploadKey, _Attempt] = {}
        self._outbox: queue.SimpleQueue[_Attempt | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_loop, name="frame-sender", daemon=True)
        self._sender.start()

    def publish(self, event: FrameEvent, key: UploadKey, done: Done) -> None:
        """Publish `event` unless `key` was published lately; `done(outcome)` follows on the loop
        (at once for a re-upload)."""
        if key in self._recent:
            metrics.REUPLOADS.inc()
            done(Outcome(ok=True, reupload=True))
            return
        attempt = self._in_flight.get(key)
        if attempt is not None:
            attempt.waiters.append(done)
            return
        attempt = _Attempt(key, event, [done])
        too_late = Outcome(False, reason="kafka_timeout",
                           detail=f"Kafka did not acknowledge it within {self._timeout:g}s")
        attempt.timer = self._ioloop.call_later(self._timeout, self._settle, attempt, too_late)
        self._in_flight[key] = attempt
        metrics.IN_FLIGHT.inc()
        if self._producer._metadata.partitions_for_topic(FRAMES) is not None:  # see the module docstring
            self._send(attempt)
        else:
            self._outbox.put(attempt)

    @property
    def in_flight(self) -> int:
        """Frames handed to Kafka whose outcome is not known yet (their sessions await it)."""
        return len(self._in_flight)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the sender, deliver what the producer holds (up to `timeout`), close it."""
        self._outbox.put(None)
        self._sender.join(timeout)
        close_quietly("producer", lambda: self._producer.close(timeout=timeout))  # flushes first
        self._handoff.close()

    # -- sending (loop or sender thread) ---------------------------------------------

    def _send_loop(self) -> None:
        while (attempt := self._outbox.get()) is not None:
            try:
                self._producer.partitions_for(FRAMES)  # waits for the metadata, at most max_block_ms
            except Exception as error:  # KafkaTimeoutError: no metadata in time
                self._handoff.call_soon(self._acknowledged, attempt, error)
                continue
            if time.monotonic() - attempt.started + self._delivery_timeout > self._timeout:
                # The producer could still write it after the camera is told it failed.
                self._handoff.call_soon(self._acknowledged, attempt,
                                        KafkaTimeoutError("not sent: Kafka's metadata came too late"))
            else:
                self._send(attempt)

    def _send(self, attempt: _Attempt) -> None:
        event = attempt.event
        try:
            future = self._producer.send(FRAMES, key=event.key(), value=event.jpeg, headers=event.headers())
        except Exception as error:  # KafkaTimeoutError (no metadata), IllegalStateError, ...
            self._handoff.call_soon(self._acknowledged, attempt, error)
            return
        # The producer's I/O thread completes the future: hop back onto the loop.
        future.add_callback(lambda _metadata: self._handoff.call_soon(self._acknowledged, attempt, None))
        future.add_errback(lambda error: self._handoff.call_soon(self._acknowledged, attempt, error))

    # -- loop thread -----------------------------------------------------------------

    def _acknowledged(self, attempt: _Attempt, error: BaseException | None) -> None:
        metrics.IN_FLIGHT.dec()
        if error is not None:
            if not attempt.settled:
                log.warning("kafka_send_failed", camera=attempt.key.camera, filename=attempt.key.filename,
                            error=str(error) or type(error).__name__)
            said = " ".join(str(error).split())[:200]  # one line: it ends up in an FTP reply
            refused = Outcome(False, reason="kafka_error",
                              detail=f"Kafka did not take it ({type(error).__name__}: {said})")
            self._settle(attempt, refused)
            return
        self._recent.remember(attempt.key)
        metrics.KAFKA_ACK_SECONDS.observe(time.monotonic() - attempt.started)
        metrics.FRAMES.inc()
        metrics.FRAME_BYTES.inc(len(attempt.event.jpeg))
        if attempt.settled:
            metrics.LATE_ACKS.inc()
            log.warning("kafka_late_ack", camera=attempt.key.camera, filename=attempt.key.filename,
                        frame_id=attempt.event.frame_id)
        self._settle(attempt, Outcome(True))

    def _settle(self, attempt: _Attempt, outcome: Outcome) -> None:
        if attempt.settled:
            return
        attempt.settled = True
        if not attempt.timer.cancelled:
            attempt.timer.cancel()
        if self._in_flight.get(attempt.key) is attempt:
            del self._in_flight[attempt.key]
        for done in attempt.waiters:
            done(outcome)
