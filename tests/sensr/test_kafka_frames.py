"""sensr.kafka_frames against the real broker: records read back by partition and offset,
from several threads at once, large ones whole, and gone ones reported as gone."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from sensr.kafka_frames import KafkaFrames, RecordGone


@pytest.fixture
def topic(kafka_bootstrap: str, unique_name: str) -> str:
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(unique_name, 2, 1, topic_configs={"max.message.bytes": str(4 << 20)})])
    finally:
        admin.close()
    return unique_name


def _produce(bootstrap: str, topic: str, values: list[tuple[int, bytes]]) -> list[tuple[int, int]]:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=4 << 20, linger_ms=5)
    try:
        futures = [producer.send(topic, value=value, partition=partition, headers=[("n", str(i).encode())])
                   for i, (partition, value) in enumerate(values)]
        producer.flush()
        return [(meta.partition, meta.offset) for meta in (future.get(timeout=10) for future in futures)]
    finally:
        producer.close()


def test_reads_each_record_by_its_place_from_many_threads(kafka_bootstrap: str, topic: str) -> None:
    values = [(i % 2, os.urandom(1000 + (i * 37_000) % 300_000)) for i in range(40)]
    places = _produce(kafka_bootstrap, topic, values)
    frames = KafkaFrames(kafka_bootstrap, size=3, max_record_bytes=4 << 20)
    try:
        with ThreadPoolExecutor(8) as pool:
            read = list(pool.map(lambda place: frames.read(topic, *place), reversed(places)))
        read.reverse()
        assert [record.value for record in read] == [value for _, value in values]
        assert [record.headers for record in read] == [[("n", str(i).encode())] for i in range(len(values))]
    finally:
        frames.close()


def test_a_record_not_in_the_topic_is_gone(kafka_bootstrap: str, topic: str) -> None:
    places = _produce(kafka_bootstrap, topic, [(0, b"a"), (0, b"b"), (0, b"c")])
    frames = KafkaFrames(kafka_bootstrap, size=1, timeout=3)
    try:
        with pytest.raises(RecordGone):
            frames.read(topic, 0, places[-1][1] + 5)  # never written
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        try:
            admin.delete_records({TopicPartition(topic, 0): places[1][1]})  # as retention would
        finally:
            admin.close()
        with pytest.raises(RecordGone):
            frames.read(topic, 0, places[0][1])
        assert frames.read(topic, 0, places[2][1]).value == b"c"  # the pool still works after a failure
    finally:
        frames.close()
