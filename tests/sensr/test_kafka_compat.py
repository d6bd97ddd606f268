"""sensr/kafka_compat.py, the one module that reaches into kafka-python: its two
workarounds on the objects they patch, and `ProducerState` on a real producer's internals.

Both were written against one release (pinned in pyproject.toml); the end-to-end fault
tests show why they exist (tests/e2e/test_faults.py, Kafka stopped and restarted). Here
each is checked on its own, and an upgrade of kafka-python fails loudly so that someone
re-reads them against the new release.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import kafka
from kafka.producer import sender
from kafka.producer import transaction_manager as txn

from sensr import kafka_compat  # importing it applies the workarounds
from tests.support import harness


def test_workarounds_were_written_for_the_pinned_release() -> None:
    assert kafka.__version__ == kafka_compat.WRITTEN_FOR == "3.0.12", \
        "re-check sensr/kafka_compat.py against this kafka-python"


def test_idempotent_producer_asks_for_a_new_id_after_a_reset() -> None:
    manager = txn.TransactionManager()
    manager._transition_to(txn.TransactionState.INITIALIZING)
    manager.set_producer_id_and_epoch(txn.ProducerIdAndEpoch(7, 0))
    manager._transition_to(txn.TransactionState.READY)

    manager.reset_producer_id()  # what the sender does when a batch it sent expires

    assert manager.producer_id_and_epoch.producer_id == -1
    # UNINITIALIZED is the only state from which init_producer_id() sends InitProducerId.
    assert manager._current_state == txn.TransactionState.UNINITIALIZED


def test_expired_batches_are_left_out_of_produce_requests() -> None:
    sent: dict[int, list[Any]] = {}

    def produce_request(node_id: int, _acks: int, _timeout: int, batches: list[Any]) -> str:
        sent[node_id] = list(batches)
        return f"request to {node_id}"

    stand_in = SimpleNamespace(config={"acks": -1, "request_timeout_ms": 1000}, _produce_request=produce_request)
    expired, live, other_live = (SimpleNamespace(name=name, final_state=state) for name, state in
                                 (("expired", "FAILED"), ("live", None), ("other", None)))
    all_expired = SimpleNamespace(name="gone", final_state="FAILED")

    requests = sender.Sender._create_produce_requests(stand_in, {1: [expired, live], 2: [other_live], 3: [all_expired]})

    assert sent == {1: [live], 2: [other_live]}
    assert requests == {1: "request to 1", 2: "request to 2"}


def test_producer_state_reads_a_live_producer(kafka_bootstrap: str) -> None:
    """`ProducerState` reads kafka-python's metadata, connections and idempotence state:
    on a producer that just delivered a record, nothing blocks delivery."""
    from sensr.broker import FRAMES, ensure_topics, make_producer
    from sensr.settings import CoreSettings, KafkaSettings

    core, settings = CoreSettings(), KafkaSettings(kafka_bootstrap=kafka_bootstrap)
    ensure_topics(core, settings)
    producer = make_producer(core, settings)
    try:
        state = kafka_compat.ProducerState(producer, FRAMES)
        producer.partitions_for(FRAMES)
        assert state.partitions_known()
        producer.send("sensr.frames.dlq", b"state-check").get(timeout=30)
        harness.eventually(lambda: state.delivery_blockers(stale_after=30) == [], timeout=30,
                           what=lambda: f"still blocked: {state.delivery_blockers(stale_after=30)}")
    finally:
        producer.close(5)

