"""What a batch tells Kafka before its offsets are committed: one small event per stored
frame on `sensr.catalog`, and the batch's dead letters on `sensr.frames.dlq`.

The catalog event's encoding is the contract in `sensr.catalog_event`.
"""

from __future__ import annotations

from collections.abc import Sequence

from kafka import KafkaProducer

from catalog_worker.dlq import DeadLetter
from catalog_worker.errors import broker_errors
from sensr.broker import CATALOG, FRAMES_DLQ, THUMBNAILS
from sensr.catalog_event import catalog_key, catalog_value
from sensr.index import FrameRecord


class Announcer:
    """Sends catalog events and dead letters, and waits until the broker has them all."""

    def __init__(self, producer: KafkaProducer, timeout: float) -> None:
        self._producer = producer
        self._timeout = timeout

    def publish_thumbnails(self, thumbnails: Sequence[tuple[str, bytes]]) -> list[tuple[int, int]]:
        """Publish (camera, thumbnail JPEG) pairs on `sensr.thumbnails`, where the api reads
        them until their segment is sealed; returns each one's (partition, offset). Blocks
        until all are acknowledged; raises TransientError if any was not."""
        with broker_errors("publishing thumbnails"):
            futures = [self._producer.send(THUMBNAILS, key=camera.encode(), value=jpeg) for camera, jpeg in thumbnails]
            self._producer.flush(timeout=self._timeout)
            return [(meta.partition, meta.offset) for meta in (future.get(timeout=0) for future in futures)]

    def publish(self, stored: Sequence[FrameRecord], letters: Sequence[DeadLetter]) -> None:
        """Blocks until every message is acknowledged; raises TransientError if any was not."""
        with broker_errors("publishing catalog events"):
            futures = [self._producer.send(FRAMES_DLQ, key=letter.key(), value=letter.value(),
                                           headers=letter.headers()) for letter in letters]
            futures += [self._producer.send(CATALOG, key=catalog_key(record), value=catalog_value(record))
                        for record in stored]
            self._producer.flush(timeout=self._timeout)
            for future in futures:
                future.get(timeout=0)
