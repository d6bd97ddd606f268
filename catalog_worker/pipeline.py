"""One batch of `sensr.frames` records, step by step, until all its effects are durable.

    decode → vet cameras → drop duplicates → store objects → index → announce

`start` runs the first steps and queues the object writes; `finish` waits for them and
runs the rest. The consumer loop starts the next batch before finishing this one, so the
writer threads always have work.

Each step narrows the batch: records that can never be stored become dead letters (and
the batch goes on without them); a dependency that is down raises TransientError, and
the consumer loop redoes the whole batch later. Every effect is keyed by frame id, so a
redone batch changes nothing that was already done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kafka.consumer.fetcher import ConsumerRecord
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from catalog_worker import metrics
from catalog_worker.announce import Announcer
from catalog_worker.consumer import TransientError
from catalog_worker.dedup import DuplicateFilter
from catalog_worker.dlq import DeadLetter
from catalog_worker.known_cameras import KnownCameras
from catalog_worker.store import ObjectStore, PendingWrites
from catalog_worker.thumbnails import UndecodableImage
from sensr.frames import FrameEvent, FrameEventError
from sensr.index import FrameIndex, FrameRecord
from sensr.logs import get_logger

log = get_logger(__name__)
Decoded = list[tuple[ConsumerRecord, FrameEvent]]


class BatchProcessor:
    """The batch handler of `consumer.ConsumerLoop`: `start` runs the quick steps and
    queues the object writes; `PendingBatch.finish` runs the rest."""

    def __init__(self, cameras: KnownCameras, store: ObjectStore, index: FrameIndex, announcer: Announcer,
                 max_frame_bytes: int, duplicates: DuplicateFilter) -> None:
        self._cameras = cameras
        self._store = store
        self._index = index
        self._announcer = announcer
        self._max_frame_bytes = max_frame_bytes
        self._duplicates = duplicates

    def start(self, records: Sequence[ConsumerRecord]) -> PendingBatch:
        """Decode and vet `records`, and queue their writes. May block while the camera
        table catches up; raises TransientError if it cannot."""
        letters: list[DeadLetter] = []
        frames = self._decode(records, letters)
        frames = self._vet(frames, letters)
        frames = self._drop_duplicates(frames)
        return PendingBatch(self, frames, self._store.submit([frame for _, frame in frames]), letters)

    def _decode(self, records: Sequence[ConsumerRecord], letters: list[DeadLetter]) -> Decoded:
        frames: Decoded = []
        for record in records:
            try:
                frame = FrameEvent.from_record(record.key, record.value, record.headers)
            except FrameEventError as error:
                letters.append(DeadLetter(record, "bad_event", str(error)))
                continue
            if len(frame.jpeg) > self._max_frame_bytes:
                letters.append(DeadLetter(record, "too_large", f"{len(frame.jpeg)} bytes, limit {self._max_frame_bytes}"))
                continue
            frames.append((record, frame))
        return frames

    def _vet(self, frames: Decoded, letters: list[DeadLetter]) -> Decoded:
        unknown = self._cameras.unknown({frame.camera for _, frame in frames})
        for record, frame in frames:
            if frame.camera in unknown:
                letters.append(DeadLetter(record, "unknown_camera", f"camera {frame.camera!r} is deleted or unknown"))
        return [(record, frame) for record, frame in frames if frame.camera not in unknown]

    def _drop_duplicates(self, frames: Decoded) -> Decoded:
        """Leave out the frames whose content the camera already has (`dedup`): not stored,
        indexed or announced; their offsets are committed with the batch."""
        dropped = self._duplicates.duplicates([frame for _, frame in frames])
        return [(record, frame) for record, frame in frames if frame.frame_id not in dropped]

    def _finish(self, batch: PendingBatch) -> None:
        letters = list(batch.letters)
        stored: list[FrameRecord] = []
        for (record, _), outcome in zip(batch.frames, batch.writes.result(), strict=True):
            if isinstance(outcome, UndecodableImage):
                letters.append(DeadLetter(record, "bad_jpeg", str(outcome)))
            else:
                stored.append(outcome)
        self._add_to_index(stored)
        self._duplicates.release(letters)
        self._announcer.publish(stored, letters)
        for letter in letters:
            metrics.DEAD_LETTERS.labels(letter.kind).inc()
            log.warning("frame_dead_lettered", kind=letter.kind, reason=letter.reason,
                        partition=letter.record.partition, offset=letter.record.offset)

    def _add_to_index(self, stored: list[FrameRecord]) -> None:
        try:
            inserted = self._index.add(stored)
        except (DBAPIError, PoolTimeout) as error:
            raise TransientError("index", str(error).splitlines()[0]) from error
        metrics.FRAMES_STORED.inc(inserted)
        metrics.FRAMES_REDELIVERED.inc(len(stored) - inserted)


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """A started batch: its frames' writes are under way."""

    processor: BatchProcessor
    frames: Decoded
    writes: PendingWrites
    letters: list[DeadLetter]

    def finish(self) -> None:
        """Store, index and announce the batch; dead-letter its poison. Returns when all is
        durable; raises TransientError when it could not be."""
        self.processor._finish(self)

    def abandon(self) -> None:
        """Give the batch up (a retry or a rebalance follows): wait for writes under way."""
        self.writes.abandon()
