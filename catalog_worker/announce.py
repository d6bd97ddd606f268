"""What a batch tells Kafka before its offsets are committed: one small event per stored
frame on `sensr.catalog`, and the batch's dead letters on `sensr.frames.dlq`.

Catalog event — key: the camera username (UTF-8), so one camera's events stay in order;
value: a JSON object, no image bytes:

    {"v": 1, "frame_id": "01J…", "camera": "cam28", "timestamp_us": 1790000000000000,
     "size": 102400, "width": 1920, "height": 1080, "source": "ftp",
     "object_key": "cam28/2026/…jpg", "thumbnail_key": "cam28/2026/…thumb.jpg",
     "filename": "image.jpg" or null}

`v` is the schema version; the other fields are those of `sensr.index.FrameRecord`
(width and height as in the JPEG header). Delivery is at least once: a batch redone after
a crash or a retry announces its frames again, so subscribers deduplicate by `frame_id`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from kafka import KafkaProducer
from kafka.errors import KafkaError

from catalog_worker.consumer import TransientError
from catalog_worker.dlq import DeadLetter
from sensr.broker import CATALOG, FRAMES_DLQ
from sensr.index import FrameRecord

CATALOG_SCHEMA_VERSION = 1


def catalog_event(record: FrameRecord) -> bytes:
    """The JSON value of a frame's `sensr.catalog` event."""
    return json.dumps({"v": CATALOG_SCHEMA_VERSION, **asdict(record)}, separators=(",", ":")).encode()


class Announcer:
    """Sends catalog events and dead letters, and waits until the broker has them all."""

    def __init__(self, producer: KafkaProducer, timeout: float) -> None:
        self._producer = producer
        self._timeout = timeout

    def publish(self, stored: Sequence[FrameRecord], letters: Sequence[DeadLetter]) -> None:
        """Blocks until every message is acknowledged; raises TransientError if any was not."""
        try:
            futures = [self._producer.send(FRAMES_DLQ, key=letter.key(), value=letter.value(),
                                           headers=letter.headers()) for letter in letters]
            futures += [self._producer.send(CATALOG, key=record.camera.encode(), value=catalog_event(record))
                        for record in stored]
            self._producer.flush(timeout=self._timeout)
            for future in futures:
                future.get(timeout=0)
        except KafkaError as error:
            raise TransientError("kafka", f"publishing catalog events: {error}") from error
