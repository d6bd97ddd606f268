"""One batch of `sensr.frames` records, step by step, until all its effects are durable.

    decode → vet cameras → check frames → drop duplicates → store objects → index → announce

The steps up to the store take the batch's messages (`message.Message`) and hand on those
that go on, their payload replaced by what each made of it (record → frame event → frame
and its shape); a message keeps its offset throughout, and the offset finds its original
record when it has to be dead-lettered, whichever step refused it.

`start` runs the first steps and queues the object writes; `finish` waits for them and
runs the rest. With segments (`catalog_worker.segments`), the store step only renders
thumbnails; `finish` publishes them on `sensr.thumbnails`, indexes each frame with its
place in Kafka, announces it, and hands it to its camera's open segment. The consumer loop starts the next batch before finishing this one, so the
writer threads always have work.

Each step narrows the batch: records that can never be stored become dead letters (and
the batch goes on without them); a dependency that is down raises TransientError, and
the consumer loop redoes the whole batch later. Every effect is keyed by frame id, so a
redone batch changes nothing that was already done.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from catalog_worker import metrics
from catalog_worker.announce import Announcer
from catalog_worker.dedup import DuplicateFilter
from catalog_worker.dlq import DeadLetter
from catalog_worker.errors import TransientError
from catalog_worker.indexing import add_to_index
from catalog_worker.known_cameras import KnownCameras
from catalog_worker.message import KafkaPayload, Message, Partition
from catalog_worker.segments import PackedFrame, SegmentBuilder
from catalog_worker.store import ObjectWriter, PendingWrites, Written
from sensr.frame_check import FrameShape, check_frame
from sensr.frames import FrameEvent, FrameEventError
from sensr.index import FrameIndex, FrameRecord
from sensr.logs import get_logger
from sensr.scanner import JpegError

log = get_logger(__name__)
Consumed = Message[KafkaPayload]
Decoded = list[Message[FrameEvent]]
Checked = list[Message[tuple[FrameEvent, FrameShape]]]


class Originals:
    """A batch's messages as consumed, by offset: what a dead letter is made of, whatever
    step its message had reached."""

    def __init__(self, messages: Sequence[Consumed]) -> None:
        self._by_offset: dict[tuple[Partition, int], Consumed] = {
            (message.partition, message.offset): message for message in messages}

    def dead_letter(self, message: Message[Any], kind: str, reason: str) -> DeadLetter:
        return DeadLetter(self._by_offset[message.partition, message.offset], kind, reason)


class BatchProcessor:
    """The batch handler of `consumer.ConsumerLoop`: `start` runs the quick steps and
    queues the object writes; `PendingBatch.finish` runs the rest."""

    def __init__(self, cameras: KnownCameras, store: ObjectWriter, index: FrameIndex, announcer: Announcer,
                 max_frame_bytes: int, max_frame_pixels: int, duplicates: DuplicateFilter,
                 segments: SegmentBuilder | None = None) -> None:
        """`segments`: pack frames into segments (indexed at once with their place in
        Kafka); None: each frame's objects are written before it is indexed."""
        self._segments = segments
        self._cameras = cameras
        self._store = store
        self._index = index
        self._announcer = announcer
        self._max_frame_bytes = max_frame_bytes
        self._max_frame_pixels = max_frame_pixels
        self._duplicates = duplicates

    def start(self, messages: Sequence[Consumed]) -> PendingBatch:
        """Decode and vet `messages`, and queue their writes. May block while the camera
        table catches up; raises TransientError if it cannot, or when the open segments
        are full because they cannot be sealed (back-pressure: nothing more is taken)."""
        if self._segments is not None and self._segments.full():
            raise TransientError("storage", "open segments are full: sealing them is failing")
        originals = Originals(messages)
        letters: list[DeadLetter] = []
        frames = self._decode(messages, letters)
        frames = self._vet(frames, originals, letters)
        checked = self._drop_duplicates(self._check(frames, originals, letters))
        return PendingBatch(self, checked, self._store.submit([message.payload for message in checked]),
                            originals, letters)

    def _decode(self, messages: Sequence[Consumed], letters: list[DeadLetter]) -> Decoded:
        frames: Decoded = []
        for message in messages:
            raw = message.payload
            try:
                frame = FrameEvent.from_record(raw.key, raw.value, raw.headers)
            except FrameEventError as error:
                letters.append(DeadLetter(message, "bad_event", str(error)))
                continue
            if len(frame.jpeg) > self._max_frame_bytes:
                letters.append(DeadLetter(message, "too_large",
                                          f"{len(frame.jpeg)} bytes, limit {self._max_frame_bytes}"))
                continue
            frames.append(message.replace(frame))
        return frames

    def _vet(self, frames: Decoded, originals: Originals, letters: list[DeadLetter]) -> Decoded:
        unknown = self._cameras.unknown({message.payload.camera for message in frames})
        for message in frames:
            if message.payload.camera in unknown:
                letters.append(originals.dead_letter(message, "unknown_camera",
                                                     f"camera {message.payload.camera!r} is deleted or unknown"))
        return [message for message in frames if message.payload.camera not in unknown]

    def _check(self, frames: Decoded, originals: Originals, letters: list[DeadLetter]) -> Checked:
        """The frames that pass `check_frame` (the edges' own check, so only other producers
        or changed settings send any that fail), with their shapes from the header."""
        checked: Checked = []
        for message in frames:
            try:
                checked.append(message.replace((message.payload, check_frame(message.payload.jpeg,
                                                                             self._max_frame_pixels))))
            except JpegError as error:
                letters.append(originals.dead_letter(message, "bad_jpeg", f"{error.reason}: {error}"))
        return checked

    def _drop_duplicates(self, frames: Checked) -> Checked:
        """Leave out the frames whose content the camera already has (`dedup`): not stored,
        indexed or announced; their offsets are committed with the batch."""
        dropped = self._duplicates.duplicates([message.payload[0] for message in frames])
        return [message for message in frames if message.payload[0].frame_id not in dropped]

    def _finish(self, batch: PendingBatch) -> None:
        letters = list(batch.letters)
        written = batch.writes.result()
        records = [item.record for item in written]
        if self._segments is not None:
            records = self._place_in_kafka(batch.frames, written)
        stored = self._add_to_index(batch, records, letters)
        self._duplicates.release(letters)
        self._announcer.publish(stored, letters)
        if self._segments is not None:
            self._pack(batch.frames, written, {record.frame_id for record in stored})
        for letter in letters:
            metrics.DEAD_LETTERS.labels(letter.kind).inc()
            log.warning("frame_dead_lettered", kind=letter.kind, reason=letter.reason,
                        partition=letter.message.partition.index, offset=letter.message.offset)

    def _place_in_kafka(self, frames: Checked, written: list[Written]) -> list[FrameRecord]:
        """The rows of frames not sealed yet: their place in `sensr.frames`, and their
        thumbnails', published now on `sensr.thumbnails`."""
        places = self._announcer.publish_thumbnails([(item.record.camera, item.thumbnail) for item in written])
        return [dataclasses.replace(item.record, kafka_partition=message.partition.index, kafka_offset=message.offset,
                                    thumbnail_partition=partition, thumbnail_kafka_offset=offset)
                for message, item, (partition, offset) in zip(frames, written, places)]

    def _pack(self, frames: Checked, written: list[Written], indexed: set[str]) -> None:
        assert self._segments is not None
        self._segments.add(PackedFrame(item.record.frame_id, item.record.camera, item.record.timestamp_us,
                                       message.partition, message.offset, message.payload[0].jpeg, item.thumbnail)
                           for message, item in zip(frames, written) if item.record.frame_id in indexed)

    def maintain(self) -> None:
        """Seal the segments that are due (the consumer loop calls this between polls);
        raises TransientError if a seal failed."""
        if self._segments is not None:
            self._segments.seal_due()

    def drain(self) -> None:
        """Seal every open segment (the consumer loop is stopping)."""
        if self._segments is not None:
            self._segments.seal_all()

    def low_water(self) -> dict[Partition, int]:
        """Per partition, the offset below which every processed frame is durable."""
        return {} if self._segments is None else self._segments.low_water()

    def revoked(self, partitions: set[Partition]) -> None:
        if self._segments is not None:
            self._segments.drop(partitions)

    def _add_to_index(self, batch: PendingBatch, stored: list[FrameRecord],
                      letters: list[DeadLetter]) -> list[FrameRecord]:
        """Index the stored frames; those the database refuses lose their objects and
        become dead letters. Returns the frames indexed."""
        indexed = add_to_index(self._index, stored)
        if indexed.refused:
            self._store.delete([record for record, _ in indexed.refused])
            messages = {message.payload[0].frame_id: message for message in batch.frames}
            letters.extend(batch.originals.dead_letter(messages[row.frame_id], "index_refused", reason)
                           for row, reason in indexed.refused)
        refused = {row.frame_id for row, _ in indexed.refused}
        metrics.FRAMES_STORED.inc(indexed.inserted)
        metrics.FRAMES_REDELIVERED.inc(len(stored) - len(refused) - indexed.inserted)
        return [row for row in stored if row.frame_id not in refused]


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """A started batch: its frames' writes are under way."""

    processor: BatchProcessor
    frames: Checked
    writes: PendingWrites
    originals: Originals
    letters: list[DeadLetter]

    def finish(self) -> None:
        """Store, index and announce the batch; dead-letter its poison. Returns when all is
        durable; raises TransientError when it could not be."""
        self.processor._finish(self)

    def abandon(self) -> None:
        """Give the batch up (a retry or a rebalance follows): wait for writes under way."""
        self.writes.abandon()
