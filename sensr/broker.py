"""Kafka wiring: topic names and settings, producer and consumer factories, topic creation,
and a bridge from kafka-python's producer futures to asyncio.

Sizes: a frame may be up to `max_frame_bytes`; the broker (`message.max.bytes`), each topic
(`max.message.bytes`), the producer (`max_request_size`) and consumers (fetch sizes) all
allow that plus `RECORD_OVERHEAD` for the key, headers and batch framing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from sensr.logs import get_logger
from sensr.settings import CoreSettings, KafkaSettings

log = get_logger(__name__)

FRAMES = "sensr.frames"
CATALOG = "sensr.catalog"
FRAMES_DLQ = "sensr.frames.dlq"
CAMERAS = "sensr.cameras"

RECORD_OVERHEAD = 64 * 1024

RECONNECT_BACKOFF_MAX_MS = 1000
"""Longest pause between reconnection attempts to a broker (the Java client's default).
kafka-python's own default, 30 s, kept uploads refused for up to half a minute after a
restarted broker was back."""


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
        NewTopic(CAMERAS, 1, 1, topic_configs={"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
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


def _recover_idempotent_producer_after_reset() -> None:
    """Work around a kafka-python 3.0.12 bug that wedges an idempotent producer for good.

    When a batch that was already sent expires (the broker went away long enough for
    `delivery_timeout_ms` to pass), the sender calls `TransactionManager.reset_producer_id()`,
    which drops the producer id but leaves the state READY. The sender then waits for a
    new producer id, yet `init_producer_id()` only asks for one from UNINITIALIZED: no
    InitProducerId request is ever sent and every later send times out, although the
    broker is back. Every Sensr producer (edges, catalog worker, api) stopped publishing
    after a Kafka restart until restarted itself (tests/test_e2e_faults.py shows it).

    The Java client's `resetIdempotentProducerId` moves to UNINITIALIZED; so does this,
    for idempotent (non-transactional) producers only, so a fresh producer id is fetched
    as soon as a broker answers.
    """
    from kafka.producer import transaction_manager as txn

    manager = txn.TransactionManager
    reset = manager.reset_producer_id
    if getattr(reset, "_sensr_patched", False) or not hasattr(manager, "init_producer_id"):
        return

    def reset_producer_id(self: Any) -> None:
        reset(self)
        with self._lock:
            if not self.is_transactional() and self._current_state == txn.TransactionState.READY:
                self._current_state = txn.TransactionState.UNINITIALIZED

    reset_producer_id._sensr_patched = True  # type: ignore[attr-defined]
    manager.reset_producer_id = reset_producer_id


_recover_idempotent_producer_after_reset()


def _never_send_expired_batches() -> None:
    """Work around a kafka-python 3.0.12 sender hazard that stores refused frames.

    `Sender._send_producer_data` drains the batches ready for a broker, then fails the
    ones past `delivery_timeout_ms` (their futures raise KafkaTimeoutError, so the edge
    tells the camera "not stored" and the camera sends the frame again), and then builds
    the produce requests from every drained batch, the expired ones included: the
    refused frame is written all the same, and the camera's new copy is stored twice.
    It happens after a broker outage, because no batch expires while the producer waits
    for a new producer id; once the broker is back, the overdue batches are drained,
    failed and sent in one pass (tests/test_e2e_faults.py caught it).

    This leaves completed batches out of the produce requests (and out of the response
    handling, which shares the lists). The sequence numbers they took leave a gap, which
    the broker answers with OutOfOrderSequenceNumber: the producer bumps its epoch and
    the batch sent meanwhile fails (its camera is told "not stored", and it was not).
    """
    from kafka.producer import sender

    create = sender.Sender._create_produce_requests
    if getattr(create, "_sensr_patched", False):
        return

    def _create_produce_requests(self: Any, collated: dict[int, list[Any]]) -> dict[int, Any]:
        for batches in collated.values():
            batches[:] = [batch for batch in batches if batch.final_state is None]
        return create(self, collated)

    _create_produce_requests._sensr_patched = True  # type: ignore[attr-defined]
    sender.Sender._create_produce_requests = _create_produce_requests


_never_send_expired_batches()


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
    linger_ms = 2
    delivery_timeout_ms, request_timeout_ms = producer_timeouts(kafka.kafka_request_timeout_ms, linger_ms)
    config: dict[str, Any] = {
        "bootstrap_servers": kafka.kafka_bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "max_request_size": max_record_bytes(core),
        "linger_ms": linger_ms,
        "batch_size": 1024 * 1024,
        "request_timeout_ms": request_timeout_ms,
        "max_block_ms": kafka.kafka_request_timeout_ms,
        "delivery_timeout_ms": delivery_timeout_ms,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
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


async def wait_for_send(future: Any, timeout: float | None = None) -> Any:
    """Await a kafka-python `FutureRecordMetadata` from asyncio without blocking the loop.

    The producer's I/O thread completes the future; its callbacks hop back onto this loop.
    Returns the RecordMetadata, or raises the send's error (or TimeoutError).
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def resolve(metadata: Any) -> None:
        loop.call_soon_threadsafe(_settle, done, metadata, None)

    def reject(error: BaseException) -> None:
        loop.call_soon_threadsafe(_settle, done, None, error)

    future.add_callback(resolve)
    future.add_errback(reject)
    return await asyncio.wait_for(done, timeout)


def _settle(done: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


def close_quietly(client: str, close: Callable[[], object]) -> None:
    """Close a Kafka client at shutdown, logging (not raising) what fails there: with the
    broker unreachable, `KafkaProducer.close` raises once its flush times out. What the
    client still held was never acknowledged, so no caller was told it is stored; a
    crash would only turn a clean stop into exit code 1."""
    try:
        close()
    except Exception as error:
        log.warning("close_failed", client=client, error=str(error) or type(error).__name__)
