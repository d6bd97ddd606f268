"""Kafka wiring: topic names and settings, producer and consumer factories, topic creation.

Sizes: a frame may be up to `max_frame_bytes`; the broker (`message.max.bytes`), each topic
(`max.message.bytes`), the producer (`max_request_size`) and consumers (fetch sizes) all
allow that plus `RECORD_OVERHEAD` for the key, headers and batch framing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

import sensr.kafka_compat  # noqa: F401  (importing it applies the kafka-python workarounds)
from sensr.logs import get_logger
from sensr.settings import CoreSettings, KafkaSettings

log = get_logger(__name__)

FRAMES = "sensr.frames"
CATALOG = "sensr.catalog"
THUMBNAILS = "sensr.thumbnails"
"""Thumbnails of frames whose segment is not sealed yet (served from here until it is)."""
FRAMES_DLQ = "sensr.frames.dlq"
CAMERAS = "sensr.cameras"
ACTIVITY = "sensr.activity"
ALERT_RULES = "sensr.alert-rules"
CLIP_JOBS = "sensr.clip-jobs"
CLIP_PROGRESS = "sensr.clip-progress"
CLIP_CANCELS = "sensr.clip-cancels"

RECORD_OVERHEAD = 64 * 1024

RECONNECT_BACKOFF_MAX_MS = 1000
"""Longest pause between reconnection attempts to a broker (the Java client's default).
kafka-python's own default, 30 s, kept uploads refused for up to half a minute after a
restarted broker was back."""

METADATA_MAX_AGE_MS = 1000
"""How often a producer asks for fresh metadata. An answer every second is how a
producer notices that its broker stopped answering (frozen, or gone) before a frame
waits on it: `/readyz` of the edges reports stale metadata
(`sensr.kafka_compat.ProducerState`). One small request a second per producer."""

LINGER_MS = 2
"""How long a producer waits to fill a batch: short, since each upload waits on its ack."""


def max_record_bytes(core: CoreSettings) -> int:
    """Largest record Sensr produces: one frame plus its key, headers and batch framing."""
    return core.max_frame_bytes + RECORD_OVERHEAD


def topic_specs(core: CoreSettings, kafka: KafkaSettings) -> list[NewTopic]:
    """The topics Sensr owns, with the configs each needs."""
    big = {"max.message.bytes": str(max_record_bytes(core))}
    return [
        NewTopic(FRAMES, kafka.frames_partitions, 1, topic_configs=dict(big)),
        NewTopic(FRAMES_DLQ, 1, 1, topic_configs=dict(big)),
        NewTopic(CATALOG, kafka.frames_partitions, 1),
        NewTopic(THUMBNAILS, kafka.frames_partitions, 1, topic_configs=dict(big)),
        NewTopic(ACTIVITY, kafka.frames_partitions, 1),
        NewTopic(CAMERAS, 1, 1, topic_configs={"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        NewTopic(ALERT_RULES, 1, 1, topic_configs={"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        NewTopic(CLIP_JOBS, kafka.frames_partitions, 1),
        NewTopic(CLIP_PROGRESS, kafka.frames_partitions, 1),
        NewTopic(CLIP_CANCELS, 1, 1, topic_configs={"retention.ms": str(7 * 86_400_000)}),
    ]


def ensure_topics(core: CoreSettings, kafka: KafkaSettings, timeout_ms: int = 30_000) -> None:
    """Create Sensr's topics if they do not exist yet (safe to call from every service)."""
    admin = KafkaAdminClient(bootstrap_servers=kafka.kafka_bootstrap, request_timeout_ms=timeout_ms,
                             client_id="sensr-admin")
    try:
        existing = set(admin.list_topics())
        missing = [spec for spec in topic_specs(core, kafka) if spec.name not in existing]
        if missing:
            try:
                admin.create_topics(missing, timeout_ms=timeout_ms)
            except TopicAlreadyExistsError:
                pass  # another service created it between our list and create
    finally:
        admin.close()


def producer_timeouts(ack_timeout_ms: int, linger_ms: int) -> tuple[int, int]:
    """(delivery_timeout_ms, request_timeout_ms) for a producer whose callers give up
    waiting for an acknowledgement `ack_timeout_ms` after sending.

    The producer must give a record up *before* its caller does: a record it still
    holds when the caller has answered "not stored" (503, 451) would be written once the
    broker is back, and the camera, told to upload again, would have it stored twice.
    So the delivery timeout ends a little before the caller's, and the request timeout
    a little before that (kafka-python requires delivery > linger + request).
    """
    margin = max(1, min(250, ack_timeout_ms // 10))
    delivery = ack_timeout_ms - margin
    return delivery, max(1, delivery - linger_ms - max(1, margin // 5))


def make_producer(core: CoreSettings, kafka: KafkaSettings, **overrides: Any) -> KafkaProducer:
    """A durable producer: acks from all in-sync replicas, idempotent, sized for the largest frame.
    Every record is acknowledged or failed within `kafka_request_timeout_ms` of its send."""
    delivery_timeout_ms, request_timeout_ms = producer_timeouts(kafka.kafka_request_timeout_ms, LINGER_MS)
    config: dict[str, Any] = {
        "bootstrap_servers": kafka.kafka_bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "max_request_size": max_record_bytes(core),
        "linger_ms": LINGER_MS,
        "batch_size": 1024 * 1024,
        "request_timeout_ms": request_timeout_ms,
        "max_block_ms": kafka.kafka_request_timeout_ms,
        "delivery_timeout_ms": delivery_timeout_ms,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        "metadata_max_age_ms": METADATA_MAX_AGE_MS,
        "client_id": "sensr",
    }
    config.update(overrides)
    return KafkaProducer(**config)


def make_consumer(core: CoreSettings, kafka: KafkaSettings, *topics: str, **overrides: Any) -> KafkaConsumer:
    """A consumer that commits only when told to (commit after process), sized for the largest frame."""
    config: dict[str, Any] = {
        "bootstrap_servers": kafka.kafka_bootstrap,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_partition_fetch_bytes": max_record_bytes(core),
        "fetch_max_bytes": max(52_428_800, max_record_bytes(core)),
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        "client_id": "sensr",
    }
    config.update(overrides)
    return KafkaConsumer(*topics, **config)


def close_quietly(client: str, close: Callable[[], object]) -> None:
    """Close a Kafka client at shutdown, logging (not raising) what fails there: with the
    broker unreachable, `KafkaProducer.close` raises once its flush times out. What the
    client still held was never acknowledged, so no caller was told it is stored; a
    crash would only turn a clean stop into exit code 1."""
    try:
        close()
    except Exception as error:
        log.warning("close_failed", client=client, error=str(error) or type(error).__name__)


POLL_FAILURE_WAIT_S = 1.0


def poll_or_wait(consumer: KafkaConsumer, stop: threading.Event, client: str,
                 **poll: Any) -> dict[TopicPartition, list[ConsumerRecord]]:
    """`consumer.poll(**poll)`, or nothing when the broker cannot be reached: kafka-python
    3 raises from `poll` while the group coordinator is away (a broker restart), where a
    consumer loop must wait and poll again, not die. The failure is logged and waited
    out for `POLL_FAILURE_WAIT_S` (less if `stop` is set); the client reconnects."""
    try:
        return consumer.poll(**poll)
    except KafkaError as error:
        log.warning("kafka_poll_failed", client=client, error=str(error) or type(error).__name__)
        stop.wait(POLL_FAILURE_WAIT_S)
        return {}


def offsets_after(records: Iterable[ConsumerRecord]) -> dict[TopicPartition, OffsetAndMetadata]:
    """Per partition, the offset to commit once `records` are processed: after its last one
    (records come in offset order per partition, so the last one wins)."""
    return {TopicPartition(record.topic, record.partition): OffsetAndMetadata(record.offset + 1, "", record.leader_epoch)
            for record in records}


class RebalanceListener(ConsumerRebalanceListener):
    """kafka-python's rebalance listener, calling `revoked` and `assigned` with the sets of
    partitions (a consumer loop's own methods). Called inside `poll`, on its thread."""

    def __init__(self, revoked: Callable[[set[TopicPartition]], None],
                 assigned: Callable[[set[TopicPartition]], None]) -> None:
        self._revoked, self._assigned = revoked, assigned

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self._revoked(set(revoked))

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._assigned(set(assigned))


def partition_lag(consumer: KafkaConsumer) -> dict[int, int]:
    """Records not yet read, per assigned partition (0: read to its end), from the
    consumer's last fetch; partitions whose position or end is not known yet are left out."""
    lag: dict[int, int] = {}
    for partition in consumer.assignment():
        highwater = consumer.highwater(partition)
        try:
            position = consumer.position(partition, timeout_ms=0)
        except KafkaError:
            continue
        if highwater is not None and position is not None:
            lag[partition.partition] = max(0, highwater - position)
    return lag
