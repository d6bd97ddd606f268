"""Reading one record of a topic by its partition and offset: how a frame (or thumbnail)
that is not in the object store yet is served from Kafka, which already holds it durably.

No consumer group: each read assigns the partition, seeks to the offset and fetches;
nothing is ever committed. A `KafkaFrames` is thread-safe: it keeps a small pool of
consumers (a kafka-python consumer is not thread-safe), each lent to one read at a time,
created on demand up to `size` and reused afterwards, so a read costs one fetch round
trip, not a connection.

Fetch sizes are kept small: the broker always returns at least the first record batch at
the offset, whatever its size (KIP-74), so one read fetches about one producer batch, not
megabytes of the records after it.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, OffsetOutOfRangeError

import sensr.kafka_compat  # noqa: F401  (importing it applies the kafka-python workarounds)
from sensr.logs import get_logger

log = get_logger(__name__)
FETCH_BYTES = 64 * 1024  # the broker still returns a larger first batch whole (KIP-74)


class RecordGone(Exception):
    """The record is no longer in the topic (retention removed it) or never was."""


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as read back: its value and headers."""

    value: bytes
    headers: list[tuple[str, bytes]]


class KafkaFrames:
    """Records by (topic, partition, offset), from a pool of group-less consumers."""

    def __init__(self, bootstrap: str, size: int = 4, timeout: float = 5.0, max_record_bytes: int = 0) -> None:
        """`size`: most reads at once (more wait for a consumer); `timeout`: how long a
        read may take before it fails with `KafkaError`; `max_record_bytes`: the largest
        record expected (fetch limits; 0 for the client's defaults)."""
        self._bootstrap = bootstrap
        self._timeout = timeout
        self._max_record_bytes = max_record_bytes
        self._idle: queue.LifoQueue[KafkaConsumer] = queue.LifoQueue()
        self._slots = queue.Queue[None](size)
        for _ in range(size):
            self._slots.put(None)

    def read(self, topic: str, partition: int, offset: int) -> StoredRecord:
        """The record at `offset` of `partition`. Blocks (up to the timeout) while every
        pooled consumer is busy. Raises RecordGone when the offset is below the
        partition's start or the record at it was compacted away; `KafkaError` when the
        broker cannot answer in time."""
        try:
            self._slots.get(timeout=self._timeout)
        except queue.Empty:
            raise KafkaError(f"every Kafka frame reader stayed busy for {self._timeout} s") from None
        consumer = None
        try:
            consumer = self._take()
            record = self._fetch(consumer, TopicPartition(topic, partition), offset)
            self._idle.put(consumer)
            consumer = None
            return record
        finally:
            if consumer is not None:  # a failed read: its state is unknown, drop the consumer
                consumer.close()
            self._slots.put(None)

    def close(self) -> None:
        """Close the idle consumers (call once no read is under way)."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def _take(self) -> KafkaConsumer:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._new_consumer()

    def _new_consumer(self) -> KafkaConsumer:
        config: dict[str, Any] = {
            "bootstrap_servers": self._bootstrap,
            "group_id": None,
            "enable_auto_commit": False,
            "auto_offset_reset": "none",
            "fetch_max_wait_ms": 100,
            "max_partition_fetch_bytes": FETCH_BYTES,
            "fetch_max_bytes": max(FETCH_BYTES, self._max_record_bytes),
            "request_timeout_ms": max(1000, int(self._timeout * 1000)),
            "client_id": "sensr-kafka-frames",
        }
        return KafkaConsumer(**config)

    def _fetch(self, consumer: KafkaConsumer, partition: TopicPartition, offset: int) -> StoredRecord:
        consumer.assign([partition])
        consumer.seek(partition, offset)
        deadline = time.monotonic() + self._timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                polled = consumer.poll(timeout_ms=int(min(left, 0.5) * 1000) + 1, max_records=1)
            except OffsetOutOfRangeError:
                raise RecordGone(f"{partition.topic}/{partition.partition}/{offset}") from None
            for record in polled.get(partition, ()):
                if record.offset == offset:
                    return StoredRecord(record.value, list(record.headers or ()))
                if record.offset > offset:  # compacted away, or a transaction marker
                    raise RecordGone(f"{partition.topic}/{partition.partition}/{offset}")
            highwater = consumer.highwater(partition)
            if highwater is not None and offset >= highwater:
                raise RecordGone(f"{partition.topic}/{partition.partition}/{offset}: not written yet")
        raise KafkaError(f"no record at {partition.topic}/{partition.partition}/{offset} within {self._timeout} s")
