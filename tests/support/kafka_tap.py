"""Test helpers that talk to the real Kafka: register camera logins the way the api does,
and read back the frames a test caused, from the offsets where the test began."""

from __future__ import annotations

import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from sensr.broker import FRAMES, make_consumer, make_producer
from sensr.cameras import CameraLogin, publish_deletion, publish_login
from sensr.frames import FrameEvent
from sensr.settings import CoreSettings, KafkaSettings


def producer_for(bootstrap: str) -> KafkaProducer:
    return make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap))


def register_camera(bootstrap: str, username: str, password: str, **extra: object) -> CameraLogin:
    """Publish a camera login to `sensr.cameras` (as the api does) and return it."""
    login = CameraLogin.create(username, camera_id=f"id-{username}", owner_id="owner-test", password=password,
                               **extra)  # type: ignore[arg-type]
    producer = producer_for(bootstrap)
    try:
        publish_login(producer, login)
    finally:
        producer.close()
    return login


def update_camera(bootstrap: str, login: CameraLogin) -> None:
    producer = producer_for(bootstrap)
    try:
        publish_login(producer, login)
    finally:
        producer.close()


def delete_camera(bootstrap: str, username: str) -> None:
    producer = producer_for(bootstrap)
    try:
        publish_deletion(producer, username)
    finally:
        producer.close()


def consumer_at_end(bootstrap: str, topic: str) -> KafkaConsumer:
    """A consumer without a group, assigned every partition of `topic`, at their end offsets."""
    consumer = make_consumer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap), group_id=None)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or {0})]
    consumer.assign(partitions)
    for tp, offset in consumer.end_offsets(partitions).items():
        consumer.seek(tp, offset)
    return consumer


class FrameTap:
    """Reads `sensr.frames` from the end offsets at the moment it was made."""

    def __init__(self, bootstrap: str, topic: str = FRAMES) -> None:
        self.consumer = consumer_at_end(bootstrap, topic)

    def collect(self, camera: str | None = None, count: int = 1, timeout: float = 30.0) -> list[FrameEvent]:
        """Frames (of `camera`, if given) until `count` arrived or `timeout` passed, in partition order."""
        found: list[FrameEvent] = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=200).values():
                for record in records:
                    if camera is not None and record.key != camera.encode():
                        continue  # another test's record, maybe one made malformed on purpose
                    found.append(FrameEvent.from_record(record.key, record.value, record.headers))
        return found

    def quiet(self, camera: str | None = None, seconds: float = 2.0) -> list[FrameEvent]:
        """Whatever frames (of `camera`) arrive within `seconds` (to assert that none did)."""
        return self.collect(camera, count=10**9, timeout=seconds)

    def close(self) -> None:
        self.consumer.close()
