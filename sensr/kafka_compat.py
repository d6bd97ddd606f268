"""Everything Sensr does with kafka-python's private parts, in one place.

kafka-python 3.0.12 (pinned in pyproject.toml) lacks two things Sensr needs, so this
module reaches inside it, and nothing else in the tree does:

* two workarounds for producer bugs that stored refused frames or wedged the producer
  after a broker outage, applied when this module is imported (`sensr.broker` imports it,
  so every Sensr producer has them);
* `ProducerState`: what a producer knows about a topic without blocking (whether `send`
  would return at once, and whether it could deliver now), which kafka-python keeps in
  private attributes.

tests/sensr/test_kafka_compat.py checks each piece on the objects it touches and fails
on another kafka-python release, so that an upgrade re-reads this module first.
"""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaProducer
from kafka.structs import TopicPartition

WRITTEN_FOR = "3.0.12"
"""The kafka-python release this module was written against."""


def _recover_idempotent_producer_after_reset() -> None:
    """Work around a kafka-python 3.0.12 bug that wedges an idempotent producer for good.

    When a batch that was already sent expires (the broker went away long enough for
    `delivery_timeout_ms` to pass), the sender calls `TransactionManager.reset_producer_id()`,
    which drops the producer id but leaves the state READY. The sender then waits for a
    new producer id, yet `init_producer_id()` only asks for one from UNINITIALIZED: no
    InitProducerId request is ever sent and every later send times out, although the
    broker is back. Every Sensr producer (edges, catalog worker, api) stopped publishing
    after a Kafka restart until restarted itself (tests/e2e/test_faults.py shows it).

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


def _never_send_expired_batches() -> None:
    """Work around a kafka-python 3.0.12 sender hazard that stores refused frames.

    `Sender._send_producer_data` drains the batches ready for a broker, then fails the
    ones past `delivery_timeout_ms` (their futures raise KafkaTimeoutError, so the edge
    tells the camera "not stored" and the camera sends the frame again), and then builds
    the produce requests from every drained batch, the expired ones included: the
    refused frame is written all the same, and the camera's new copy is stored twice.
    It happens after a broker outage, because no batch expires while the producer waits
    for a new producer id; once the broker is back, the overdue batches are drained,
    failed and sent in one pass (tests/e2e/test_faults.py caught it).

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


_recover_idempotent_producer_after_reset()
_never_send_expired_batches()


class ProducerState:
    """What one producer knows about one topic, read without blocking (any thread).

    kafka-python's `send` blocks while the topic's partitions are unknown, and says
    nothing about whether a record sent now could be delivered; its metadata, connections
    and idempotence state are private. This reads them.
    """

    def __init__(self, producer: KafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    def partitions_known(self) -> bool:
        """Whether `send` to the topic would return at once (its partitions are known)."""
        return self._producer._metadata.partitions_for_topic(self._topic) is not None

    def delivery_blockers(self, stale_after: float) -> list[str]:
        """Why a record sent now would not be delivered at once; empty when it would.

        * `no_metadata`: the topic's partitions are unknown (`send` would block);
        * `metadata_stale`: no metadata answer for `stale_after` seconds (the producer
          refreshes it every `metadata_max_age_ms`): the broker is away or frozen;
        * `no_leader`: a partition has no leader right now;
        * `leader_unreachable`: the connection to a partition's leader failed, and the
          producer waits before trying again (a connection closed for being idle is no
          blocker: a send opens it at once);
        * `no_producer_id`: the idempotent producer waits for a producer id, and sends
          nothing until it has one.
        """
        producer = self._producer
        metadata = producer._metadata
        partitions = metadata.partitions_for_topic(self._topic)
        if partitions is None:
            return ["no_metadata"]
        blockers = []
        if time.monotonic() * 1000 - metadata._last_successful_refresh_ms > stale_after * 1000:
            blockers.append("metadata_stale")
        leaders = {metadata.leader_for_partition(TopicPartition(self._topic, partition)) for partition in partitions}
        if leaders & {None, -1}:
            blockers.append("no_leader")
        client = producer._sender._client
        if any(not client.connected(leader) and client.connection_delay(leader) > 0
               for leader in leaders - {None, -1}):
            blockers.append("leader_unreachable")
        manager = producer._transaction_manager
        if manager is not None and not manager.has_producer_id():
            blockers.append("no_producer_id")
        return blockers
