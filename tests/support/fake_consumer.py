"""A consumer without Kafka: in-memory partitions behind the few kafka-python calls
`catalog_worker.consumer.ConsumerLoop` makes (subscribe with a rebalance listener, poll,
commit, seek, pause/resume, assignment, position, highwater), and a clock that advances
only while the loop polls an idle consumer, so back-off takes no real time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from kafka import ConsumerRebalanceListener, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError
from kafka.structs import OffsetAndMetadata

from sensr.broker import FRAMES

MAX_POLLS = 1000
"""A loop under test that polls this often without its test's goal met is stuck."""


# -- a consumer without Kafka --------------------------------------------------------------

class FakeConsumer:
    """In-memory partitions behind the kafka-python calls `ConsumerLoop` makes.

    Like kafka-python 3, it rebalances inside `poll` (eagerly: every partition is revoked,
    then the new assignment is given; a partition given back keeps its position, a new
    one is read from its committed offset), and refuses
    a commit that names a partition this member no longer owns (`CommitFailedError`).
    `stop` is set once `done()` holds, so the loop under test returns."""

    def __init__(self, logs: dict[TopicPartition, list[bytes]], stop: threading.Event,
                 done: Callable[[FakeConsumer], bool]) -> None:
        self.logs = {partition: [record(partition, offset, value) for offset, value in enumerate(values)]
                     for partition, values in logs.items()}
        self.now = 0.0
        self.committed: dict[TopicPartition, int] = {}
        self.events: list[tuple[Any, ...]] = []
        """What happened, in order: ("commit", {partition: offset}), ("commit_refused", ...), ("seek", ...)."""
        self.rebalances: dict[int, set[TopicPartition]] = {1: set(self.logs)}
        """Assignment to give at the start of the n-th poll (the first poll joins the group)."""
        self.polls = 0
        self.paused: set[TopicPartition] = set()
        self._stop, self._done = stop, done
        self._assigned: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._listener: ConsumerRebalanceListener | None = None

    def clock(self) -> float:
        return self.now

    def subscribe(self, topics: list[str], listener: ConsumerRebalanceListener) -> None:
        assert topics == [FRAMES]
        self._listener = listener

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        self.polls += 1
        assert self.polls <= MAX_POLLS, f"the loop is stuck; last events: {self.events[-10:]}"
        if self.polls in self.rebalances:
            self._rebalance(self.rebalances[self.polls])
        if self._done(self):
            self._stop.set()
        polled: dict[TopicPartition, list[ConsumerRecord]] = {}
        for partition in sorted(self._assigned - self.paused):
            records = self.logs[partition][self._positions[partition]:][:max_records - sum(map(len, polled.values()))]
            if records:
                polled[partition] = records
                self._positions[partition] += len(records)
        if not polled:
            self.now += timeout_ms / 1000  # an idle poll waits out its timeout
        return polled

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        if not offsets.keys() <= self._assigned:
            self.events.append(("commit_refused", {p.partition: o.offset for p, o in offsets.items()}))
            raise CommitFailedError("the group has rebalanced and assigned the partitions to another member")
        self.events.append(("commit", {p.partition: o.offset for p, o in offsets.items()}))
        self.committed.update({partition: meta.offset for partition, meta in offsets.items()})

    def seek(self, partition: TopicPartition, offset: int) -> None:
        assert partition in self._assigned
        self.events.append(("seek", partition.partition, offset))
        self._positions[partition] = offset

    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused |= set(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused -= set(partitions)

    def position(self, partition: TopicPartition, timeout_ms: int) -> int:
        return self._positions[partition]

    def highwater(self, partition: TopicPartition) -> int:
        return len(self.logs[partition])

    def _rebalance(self, assigned: set[TopicPartition]) -> None:
        assert self._listener is not None
        self._listener.on_partitions_revoked(set(self._assigned))
        kept = self._assigned & assigned  # kafka-python 3 keeps their position and paused flag
        self._positions = {partition: self._positions[partition] if partition in kept
                           else self.committed.get(partition, 0) for partition in assigned}
        self._assigned, self.paused = set(assigned), self.paused & kept
        self._listener.on_partitions_assigned(set(assigned))


def record(partition: TopicPartition, offset: int, value: bytes, key: bytes = b"cam",
           headers: Sequence[tuple[str, bytes]] = ()) -> ConsumerRecord:
    return ConsumerRecord(topic=partition.topic, partition=partition.partition, leader_epoch=0, offset=offset,
                          timestamp=0, timestamp_type=0, key=key, value=value, headers=list(headers), checksum=None,
                          serialized_key_size=-1, serialized_value_size=-1, serialized_header_size=-1)


def fully_committed(consumer: FakeConsumer) -> bool:
    return all(consumer.committed.get(partition) == len(log) for partition, log in consumer.logs.items())


