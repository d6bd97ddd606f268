"""ingest_ftp's side of `sensr.publisher.FramePublisher`: uploads published from
pyftpdlib's IOLoop, and re-uploads answered without a second copy.

`publish()` is called on the IOLoop thread and returns at once; its `done` callback runs
later on the same thread with the outcome, which the handler turns into `226` or an
error reply. Sending, the ack timeout and the rule that a frame refused is never sent
afterwards are `sensr.publisher`'s; Kafka's answers reach the loop through `LoopHandoff`.

Exactly-once effect for re-uploads: a key (camera, final name, bytes) acknowledged within
the re-upload window (also after its upload was answered with a timeout) is answered at
once without sending; a key being published right now gets the same outcome as the
attempt under way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from kafka import KafkaProducer
from pyftpdlib.ioloop import IOLoop

from ingest_ftp import metrics
from ingest_ftp.handoff import LoopHandoff
from ingest_ftp.recent import RecentUploads, UploadKey
from sensr.broker import FRAMES, close_quietly
from sensr.frames import FrameEvent
from sensr.kafka_compat import ProducerState
from sensr.publisher import FramePublisher as CorePublisher
from sensr.publisher import Refusal

EDGE = "ftp"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a publish ended. `reason` (kafka_error, kafka_timeout) is set when not ok."""

    ok: bool
    reupload: bool = False
    reason: str | None = None
    detail: str = ""


Done = Callable[[Outcome], None]


class FramePublisher:
    """Sends frames with one producer; all public methods run on the IOLoop thread."""

    def __init__(self, producer: KafkaProducer, ioloop: IOLoop, recent: RecentUploads, timeout: float,
                 delivery_timeout: float) -> None:
        self._producer = producer
        self._handoff = LoopHandoff(ioloop)
        self._recent = recent
        self._core = CorePublisher(self._handoff, EDGE, timeout, delivery_timeout)
        self._core.use(producer, ProducerState(producer, FRAMES))
        self._waiters: dict[UploadKey, list[Done]] = {}

    def publish(self, event: FrameEvent, key: UploadKey, done: Done) -> None:
        """Publish `event` unless `key` was published lately; `done(outcome)` follows on the loop
        (at once for a re-upload)."""
        if key in self._recent:
            metrics.REUPLOADS.inc()
            done(Outcome(ok=True, reupload=True))
            return
        waiters = self._waiters.get(key)
        if waiters is not None:
            waiters.append(done)
            return
        self._waiters[key] = [done]
        self._core.publish(event, partial(self._answered, key), on_stored=partial(self._recent.remember, key))

    @property
    def in_flight(self) -> int:
        """Frames handed to Kafka whose outcome is not known yet (their sessions await it)."""
        return self._core.in_flight

    def blockers(self) -> list[str]:
        """Why an upload taken now would not be stored at once (`FramePublisher.blockers`)."""
        return self._core.blockers()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the sender, deliver what the producer holds (up to `timeout`), close it."""
        self._core.close(timeout)
        close_quietly("producer", lambda: self._producer.close(timeout=timeout))  # flushes first
        self._handoff.close()

    def _answered(self, key: UploadKey, refusal: Refusal | None) -> None:
        outcome = Outcome(True) if refusal is None else Outcome(False, reason=refusal.reason, detail=refusal.detail)
        for done in self._waiters.pop(key, []):
            done(outcome)
