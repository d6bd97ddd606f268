"""The activity worker's poll → score → commit loop over `sensr.frames`.

Not the catalog worker's `ConsumerLoop`: that one keeps two batches in flight to keep
its object writers busy, and rewinds without telling its handler. Scoring is sequential
state (each camera's model and open event follow its frames in order), so this loop
handles one batch at a time and tells the processor to forget what it must rebuild:

* after a transient failure (index database or Kafka): every camera's state is dropped,
  the batch's partitions are rewound to its first record, all partitions are paused for
  the backoff (`sensr.lifecycle`'s retry policy), then the same records come again and
  each camera is taken over from the index (`camera.CameraActivity.resume`);
* after a rebalance: the cameras of partitions revoked and not assigned back in the same
  rebalance are dropped (the listener only notes them; the loop applies that before it
  handles the next records). A partition that comes straight back (kafka-python 3 rejoins
  once soon after start, and a member that missed a heartbeat gets its own partitions
  again) keeps its cameras: no other member can have read it in between. Its records up
  to the last one handled here may come again (a commit refused in the rebalance): the
  loop skips them, since their effects are in the index and in the cameras' state.

Offsets are committed only after a batch's scores, events and records are durable. A
refused commit (the partition moved) is only counted: the next owner redoes the batch,
and every effect is keyed so that redoing changes nothing.

Every `tick_seconds` the processor's clock ticks for the cameras of the assigned
partitions (events ended by silence, offline cameras). Events end by Sensr time only: the
loop keeps each partition's `stream_clock.StreamClock` (the latest timestamp read, and
whether the partition is read to its end, asked of the broker at the tick).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from kafka.partitioner.default import murmur2
from sqlalchemy.exc import DBAPIError

from activity_worker import metrics
from activity_worker.processor import ActivityProcessor
from activity_worker.stream_clock import StreamClock
from sensr.activity import FrameLocation
from sensr.broker import FRAMES, RebalanceListener, offsets_after, partition_lag, poll_or_wait
from sensr.cameras import CameraTable
from sensr.frames import FrameEvent, FrameEventError
from sensr.lifecycle import retry_delay
from sensr.logs import get_logger

log = get_logger(__name__)
POLL_MS = 200


def partition_of(camera: str, partitions: int) -> int:
    """The partition of `sensr.frames` that holds the camera's frames (kafka-python's
    default partitioner, which every producer of frames uses: murmur2 of the key)."""
    return (murmur2(camera.encode()) & 0x7FFFFFFF) % partitions


class ActivityLoop:
    def __init__(self, consumer: KafkaConsumer, processor: ActivityProcessor, table: CameraTable, batch_size: int,
                 max_backoff: float, tick_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._consumer = consumer
        self._processor = processor
        self._table = table
        self._batch_size = batch_size
        self._max_backoff = max_backoff
        self._tick_seconds = tick_seconds
        self._clock = clock
        self._failures = 0
        self._revoked: set[int] = set()
        """Partitions revoked in the rebalance under way (until the assignment that ends it)."""
        self._lost: set[int] = set()
        """Partitions revoked and not assigned back: their cameras are to be forgotten."""
        self._revoked_lock = threading.Lock()
        self._handled: dict[int, int] = {}
        """Per partition, the offset of the last record handled with the cameras' state as it is."""
        self._caught_up: set[int] = set()
        self._stream = StreamClock()
        self._next_tick = 0.0
        self.failing: str | None = None
        """The dependency whose failure the loop is waiting out, or None when all is well."""

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; returns after the batch in hand is finished and committed."""
        # Metadata first: a member that joins before its client knows the topic's partitions
        # is assigned none, and kafka-python 3.0.12's rejoin then sometimes never completes
        # (seen in the tests: "No partition metadata for topic sensr.frames", then no partitions for good).
        self._consumer.partitions_for_topic(FRAMES)
        self._consumer.subscribe([FRAMES], listener=RebalanceListener(self._note_revoked, self._note_assigned))
        while not stop.is_set():
            polled = poll_or_wait(self._consumer, stop, "activity", timeout_ms=POLL_MS, max_records=self._batch_size)
            self._forget_revoked()
            records = [record for batch in polled.values() for record in batch]
            try:
                if records:
                    self._handle(records)
                self._update_positions()
                if self._clock() >= self._next_tick:
                    self._next_tick = self._clock() + self._tick_seconds
                    self._processor.tick(self._owned(), self._is_caught_up, self._stream_now())
            except (DBAPIError, KafkaError) as error:
                self._retry_later(error, records, stop)
            else:
                self._failures, self.failing = 0, None

    def _handle(self, records: Sequence[ConsumerRecord]) -> None:
        started = time.perf_counter()
        self._forget_stale(records)
        frames: list[FrameEvent] = []
        locations: list[FrameLocation] = []
        for record in records:
            if record.offset <= self._handled.get(record.partition, -1):
                continue  # redelivered after a rebalance that gave the partition back: already in the state
            try:
                frames.append(FrameEvent.from_record(record.key, record.value, record.headers))
                locations.append(FrameLocation(record.partition, record.offset))
            except FrameEventError as error:  # the catalog worker dead-letters it; nothing to score
                log.warning("frame_record_invalid", partition=record.partition, offset=record.offset, error=str(error))
        self._processor.process(frames, locations)
        for location, frame in zip(locations, frames):
            self._stream.observe(location.partition, frame.timestamp_us)
        for record in records:
            self._handled[record.partition] = max(record.offset, self._handled.get(record.partition, -1))
        self._commit(records)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)

    def _forget_stale(self, records: Sequence[ConsumerRecord]) -> None:
        """A partition kept through a rebalance whose records resume past the last one
        handled here was read by another member meanwhile (this one had been cut off from
        the group): its cameras' state is stale, so they are taken over again."""
        first: dict[int, int] = {}
        for record in records:
            first.setdefault(record.partition, record.offset)
        stale = {partition for partition, offset in first.items()
                 if partition in self._handled and offset > self._handled[partition] + 1}
        if not stale:
            return
        log.info("partitions_read_elsewhere", partitions=sorted(stale))
        for partition in stale:
            self._handled.pop(partition)
        self._stream.forget(stale)
        partitions = self._consumer.partitions_for_topic(FRAMES) or {0}
        self._processor.forget([camera for camera in self._processor.cameras()
                                if partition_of(camera, len(partitions)) in stale])

    def _commit(self, records: Sequence[ConsumerRecord]) -> None:
        try:
            self._consumer.commit(offsets_after(records))
        except (CommitFailedError, KafkaError) as error:  # the effects are durable; the batch is redone
            metrics.COMMIT_FAILURES.inc()
            log.warning("commit_failed", error=str(error))

    def _retry_later(self, error: Exception, records: Sequence[ConsumerRecord], stop: threading.Event) -> None:
        """Forget every camera, rewind the batch, pause every partition for the backoff."""
        self.failing = "index" if isinstance(error, DBAPIError) else "kafka"
        metrics.RETRIES.labels(self.failing).inc()
        self._failures += 1
        wait = retry_delay(self._failures, self._max_backoff)
        log.warning("batch_retry", error=str(error), records=len(records), wait_seconds=round(wait, 2))
        self._processor.forget()
        self._handled.clear()
        self._stream.forget()
        first: dict[TopicPartition, int] = {}
        for record in records:
            first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
        assigned = self._consumer.assignment()
        for partition, offset in first.items():
            if partition in assigned:
                self._consumer.seek(partition, offset)
        self._consumer.pause(*assigned)
        try:
            stop.wait(wait)
        finally:
            self._consumer.resume(*self._consumer.assignment())

    def _update_positions(self) -> None:
        """Lag per partition, and which partitions are read to their end."""
        lag = partition_lag(self._consumer)
        for partition, behind in lag.items():
            metrics.CONSUMER_LAG.labels(str(partition)).set(behind)
        self._caught_up = {partition for partition, behind in lag.items() if behind == 0}

    def _owned(self) -> list[str]:
        """The known cameras whose frames go to the partitions assigned to this replica."""
        partitions = self._consumer.partitions_for_topic(FRAMES)
        assigned = {tp.partition for tp in self._consumer.assignment()}
        if not partitions or not assigned:
            return []
        return [camera for camera in self._table.usernames() if partition_of(camera, len(partitions)) in assigned]

    def _stream_now(self) -> Callable[[str], int | None]:
        """The Sensr time each camera's partition has got to (`StreamClock.now`), with the
        partitions read to their end by the broker's end offsets asked now (the high-water
        marks of the last fetch may be stale: the batch before may have taken long)."""
        assigned = self._consumer.assignment()
        partitions = self._consumer.partitions_for_topic(FRAMES)
        idle: set[int] = set()
        try:
            ends = self._consumer.end_offsets(list(assigned)) if assigned else {}
            positions = {tp: self._consumer.position(tp, timeout_ms=0) for tp in ends}
            idle = {tp.partition for tp, end in ends.items() if positions[tp] is not None and positions[tp] >= end}
        except KafkaError as error:  # then only the frames read move Sensr time on
            log.warning("end_offsets_failed", error=str(error))
        count = len(partitions or ()) or 1
        return lambda camera: self._stream.now(partition := partition_of(camera, count), partition in idle)

    def _is_caught_up(self, camera: str) -> bool:
        partitions = self._consumer.partitions_for_topic(FRAMES)
        return bool(partitions) and partition_of(camera, len(partitions)) in self._caught_up

    def _forget_revoked(self) -> None:
        with self._revoked_lock:
            lost, self._lost = self._lost, set()
        if not lost:
            return
        for partition in lost:
            self._handled.pop(partition, None)
        self._stream.forget(lost)
        partitions = self._consumer.partitions_for_topic(FRAMES) or {0}
        self._processor.forget([camera for camera in self._processor.cameras()
                                if partition_of(camera, len(partitions)) in lost])

    def _note_revoked(self, partitions: set[TopicPartition]) -> None:
        log.info("partitions_revoked", partitions=sorted(p.partition for p in partitions))
        with self._revoked_lock:
            self._revoked.update(p.partition for p in partitions)
        for partition in partitions:
            try:
                metrics.CONSUMER_LAG.remove(str(partition.partition))
            except KeyError:
                pass  # no lag was reported for it yet

    def _note_assigned(self, partitions: set[TopicPartition]) -> None:
        log.info("partitions_assigned", partitions=sorted(p.partition for p in partitions))
        with self._revoked_lock:
            self._lost |= self._revoked - {p.partition for p in partitions}
            self._revoked = set()
