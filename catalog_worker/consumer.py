"""The poll → process → commit loop, with bounded work in flight and retry without skipping.

Kafka's side of the worker: this loop alone handles kafka-python's records, turning each
into a `message.Message` for the handler's steps, and commits and rewinds their offsets.

Contract with the handler: `handler.start(messages)` begins a batch (quick steps done,
slow ones under way) and returns an `InFlight`; its `finish()` returns once the batch's
effects are done (rows committed, events flushed), every one durable except frames the
handler still holds in open segments: `handler.low_water()` names, per partition, the
lowest offset it still holds. Offsets are committed up to the last finished batch but
never past that, batch after batch in poll order; `handler.maintain()` (sealing
segments) runs between polls, so commits advance while the topic is idle too.

Back-pressure: at most `MAX_IN_FLIGHT` batches (of at most `batch_size` records) are in
flight. The next batch is started while the previous one finishes, so the writer threads
stay busy, but the loop polls no more until the oldest batch is finished: a slow object
store slows consumption instead of filling memory.

Failures: if `start` or `finish` raises `TransientError`, nothing more is committed. The
loop abandons every batch in flight, seeks each of their partitions back to its first
uncommitted record, pauses all partitions and waits (doubling up to a limit) while still
polling, so the group keeps it as a member and rebalances proceed; then it resumes and
the same records come again. Nothing is skipped and nothing spins.

Rebalances are safe by at-least-once delivery and idempotent effects, not by a commit in
the rebalance listener: kafka-python 3 runs a synchronous listener on its network thread,
where a blocking commit is refused. A partition revoked and
assigned again in the same rebalance is kept as it was: kafka-python keeps its fetch
position, so the handler keeps what it holds of it. A partition lost to another member is
forgotten (`handler.revoked`: its open segments dropped), and a batch polled before that
rebalance still finishes but commits nothing of the lost partitions (counted in
`sensr_catalog_stale_batches_total`): the handler no longer holds the lost partitions'
earlier frames, so a commit could pass frames that are not durable. Each lost
partition's next owner, starting from the last committed offset, redoes those records:
the same objects are written again and no index row is added (every effect is keyed by
frame id). At most `MAX_IN_FLIGHT` batches are redone per rebalance.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from catalog_worker import metrics
from catalog_worker.errors import TransientError
from catalog_worker.message import KafkaPayload, Message, Partition
from sensr.broker import RebalanceListener, offsets_after, partition_lag, poll_or_wait
from sensr.lifecycle import retry_delay
from sensr.logs import get_logger

log = get_logger(__name__)

POLL_MS = 500  # how often a stop request is noticed while the topic is idle
IN_FLIGHT_POLL_MS = 100  # how long to wait for the next batch while one is being written
MAX_IN_FLIGHT = 2


class InFlight(Protocol):
    def finish(self) -> None:
        """Block until every effect of the batch is durable; raise TransientError if not."""

    def abandon(self) -> None:
        """Give the batch up: wait for work under way, promise no effect."""


class BatchHandler(Protocol):
    def start(self, messages: Sequence[Message[KafkaPayload]]) -> InFlight:
        """Begin a batch; may block briefly, may raise TransientError."""

    def maintain(self) -> None:
        """Work due between polls (sealing segments); may raise TransientError."""

    def drain(self) -> None:
        """Make everything finished durable before the loop stops; may raise TransientError."""

    def low_water(self) -> dict[Partition, int]:
        """Per partition, the lowest offset of a finished message whose effects are not
        durable yet (in an open segment): offsets are committed no further."""

    def revoked(self, partitions: set[Partition]) -> None:
        """The partitions were taken away: forget what is held of them."""


@dataclass(frozen=True, slots=True)
class _Batch:
    messages: Sequence[Message[KafkaPayload]]
    offsets: dict[TopicPartition, OffsetAndMetadata]
    """What to commit once the batch is finished."""
    work: InFlight
    started: float
    generation: int
    """The loop's count of rebalances that lost partitions, when the batch was polled: its
    offsets of partitions lost since are never committed (`ConsumerLoop._finish_oldest`)."""


class Backoff:
    """Waits after consecutive failures, by the one retry policy of `sensr.lifecycle`
    (0.5 s doubling up to `maximum`, jittered so that replicas do not retry in step)."""

    def __init__(self, maximum: float) -> None:
        self._maximum = maximum
        self._failures = 0

    def next(self) -> float:
        self._failures += 1
        return retry_delay(self._failures, self._maximum)

    def reset(self) -> None:
        self._failures = 0


class ConsumerLoop:
    """Feeds a subscribed consumer's records to a handler in batches; commits each batch
    once it is finished."""

    def __init__(self, consumer: KafkaConsumer, topic: str, handler: BatchHandler, batch_size: int,
                 max_backoff: float, clock: Callable[[], float] = time.monotonic) -> None:
        """`clock` times the waits after a failure (while the loop keeps polling)."""
        self._consumer = consumer
        self._clock = clock
        self._topic = topic
        self._handler = handler
        self._batch_size = batch_size
        self._backoff = Backoff(max_backoff)
        self._in_flight: deque[_Batch] = deque()
        self._finished: dict[TopicPartition, OffsetAndMetadata] = {}
        """Per partition, the offset after the last finished batch: committed once the
        handler's `low_water` allows."""
        self._committed: dict[TopicPartition, int] = {}
        self._generation = 0
        """Rebalances that took partitions away; bumped by the listener, on kafka-python's thread."""
        self._lost_at: dict[TopicPartition, int] = {}
        """The generation at which each partition was last lost."""
        self._revoking: set[TopicPartition] = set()
        """Partitions revoked by the rebalance under way: lost unless assigned again."""
        self._waiting = False
        self.failing: str | None = None
        """The dependency whose failure the loop is waiting out, or None when all is well."""

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; returns after the batches in flight are finished and
        committed (or abandoned and rewound). The caller closes the consumer (which leaves
        the group)."""
        self._consumer.subscribe([self._topic], listener=RebalanceListener(self._revoked, self._assigned))
        while not stop.is_set():
            records = self._poll(IN_FLIGHT_POLL_MS if self._in_flight else POLL_MS, stop)
            generation = self._generation  # rebalances happen inside poll, before it fetches for the new assignment
            messages = [_message(record) for record in records]
            try:
                if messages:
                    self._in_flight.append(_Batch(messages, offsets_after(records), self._handler.start(messages),
                                                  time.perf_counter(), generation))
                if self._in_flight and (len(self._in_flight) >= MAX_IN_FLIGHT or not messages):
                    self._finish_oldest()
                self._handler.maintain()
                self._commit_durable()
            except TransientError as error:
                self._retry_later(error, messages, stop)
        try:
            while self._in_flight:
                self._finish_oldest()
            self._handler.drain()
            self._commit_durable()
        except TransientError as error:
            log.warning("stopping_with_unfinished_batches", error=str(error))
            self._abandon()

    def _finish_oldest(self) -> None:
        batch = self._in_flight[0]
        batch.work.finish()
        self._in_flight.popleft()
        assigned = self._consumer.assignment()
        # A partition lost since the batch was polled restarts from its last commit (here
        # or at its new owner): its offsets in this batch are never committed.
        kept = {partition: meta for partition, meta in batch.offsets.items()
                if partition in assigned and self._lost_at.get(partition, -1) <= batch.generation}
        if len(kept) < len(batch.offsets):
            metrics.STALE_BATCHES.inc()
        self._finished.update(kept)
        self._commit_durable()
        metrics.BATCH_SECONDS.observe(time.perf_counter() - batch.started)
        self._backoff.reset()
        self.failing = None

    def _retry_later(self, error: TransientError, polled: Sequence[Message[KafkaPayload]],
                     stop: threading.Event) -> None:
        """Abandon everything in flight, rewind to the first uncommitted records, wait."""
        metrics.RETRIES.labels(error.dependency).inc()
        self.failing = error.dependency
        wait = self._backoff.next()
        abandoned = self._abandon()
        log.warning("batch_retry", error=str(error), records=len(abandoned), wait_seconds=round(wait, 2))
        self._rewind([*abandoned, *polled])  # `polled` may be among them: only first offsets count
        self._wait(wait, stop)

    def _abandon(self) -> list[Message[KafkaPayload]]:
        """Abandon the batches in flight; returns their messages, oldest first."""
        messages: list[Message[KafkaPayload]] = []
        while self._in_flight:
            batch = self._in_flight.popleft()
            batch.work.abandon()
            messages.extend(batch.messages)
        return messages

    def _poll(self, timeout_ms: int, stop: threading.Event) -> list[ConsumerRecord]:
        polled = poll_or_wait(self._consumer, stop, "catalog", timeout_ms=timeout_ms, max_records=self._batch_size)
        self._update_lag()
        return [record for records in polled.values() for record in records]

    def _commit_durable(self) -> None:
        """Commit, per partition, up to the last finished batch but not past the handler's
        `low_water` (frames finished but not durable yet), if that is further than before."""
        offsets = {partition: meta for partition, meta in self._durable(self._finished).items()
                   if meta.offset > self._committed.get(partition, -1)}
        if offsets and self._commit(offsets):
            self._committed.update((partition, meta.offset) for partition, meta in offsets.items())

    def _durable(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> dict[TopicPartition, OffsetAndMetadata]:
        """`offsets`, each lowered to the handler's `low_water` of its partition."""
        water = self._handler.low_water()
        durable = {}
        for partition, meta in offsets.items():
            offset = min(meta.offset, water.get(Partition(partition.topic, partition.partition), meta.offset))
            durable[partition] = OffsetAndMetadata(offset, "", meta.leader_epoch)
        return durable

    def _commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> bool:
        try:
            self._consumer.commit(offsets)
            return True
        except CommitFailedError as error:
            metrics.COMMIT_FAILURES.inc()
            log.warning("commit_refused_after_rebalance", error=str(error))
        except KafkaError as error:
            # The effects are durable; a later commit covers these offsets, or they are redone.
            metrics.COMMIT_FAILURES.inc()
            log.warning("commit_failed", error=str(error))
        return False

    def _rewind(self, messages: Iterable[Message[KafkaPayload]]) -> None:
        """Seek each partition that is still ours back to its first message in `messages`."""
        first: dict[TopicPartition, int] = {}
        for message in messages:
            first.setdefault(TopicPartition(message.partition.topic, message.partition.index), message.offset)
        assigned = self._consumer.assignment()
        for partition, offset in first.items():
            if partition in assigned:
                self._consumer.seek(partition, offset)

    def _wait(self, seconds: float, stop: threading.Event) -> None:
        """Sit out a failure with every partition paused, polling so the group keeps us."""
        self._waiting = True
        self._consumer.pause(*self._consumer.assignment())
        deadline = self._clock() + seconds
        try:
            while not stop.is_set() and (left := deadline - self._clock()) > 0:
                stray = self._poll(int(min(left * 1000, POLL_MS)) + 1, stop)
                self._rewind(map(_message, stray))  # only if a partition arrived unpaused; fetched again later
        finally:
            self._waiting = False
            self._consumer.resume(*self._consumer.assignment())

    def _update_lag(self) -> None:
        for partition, behind in partition_lag(self._consumer).items():
            metrics.CONSUMER_LAG.labels(str(partition)).set(behind)

    def _assigned(self, partitions: set[TopicPartition]) -> None:
        log.info("partitions_assigned", partitions=sorted(p.partition for p in partitions))
        lost, self._revoking = self._revoking - partitions, set()
        if lost:
            self._lose(lost)
        if self._waiting and partitions:
            self._consumer.pause(*partitions)

    def _revoked(self, partitions: set[TopicPartition]) -> None:
        """Which partitions are lost is known at the assignment that follows: kafka-python
        keeps the state (fetch position, paused) of a partition given straight back, so
        the handler keeps what it holds of it too (open segments): no record of it is
        fetched again."""
        log.info("partitions_revoked", partitions=sorted(p.partition for p in partitions))
        self._revoking |= partitions

    def _lose(self, partitions: set[TopicPartition]) -> None:
        self._generation += 1
        for partition in partitions:
            self._lost_at[partition] = self._generation
            self._finished.pop(partition, None)
            self._committed.pop(partition, None)
            try:
                metrics.CONSUMER_LAG.remove(str(partition.partition))
            except KeyError:
                pass  # no lag was reported for it yet
        self._handler.revoked({Partition(p.topic, p.partition) for p in partitions})


def _message(record: ConsumerRecord) -> Message[KafkaPayload]:
    return Message(Partition(record.topic, record.partition), record.offset,
                   KafkaPayload(record.key, record.value, list(record.headers or ())))
