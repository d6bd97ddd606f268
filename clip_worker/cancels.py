"""The cancelled jobs, followed from `sensr.clip-cancels` by every worker (no group: each
needs all of them). The topic keeps a week of cancels, read from its start, so a job
cancelled before any worker took it is skipped when it is taken."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from sensr.background import BackgroundLoop
from sensr.broker import CLIP_CANCELS
from sensr.logs import get_logger

log = get_logger(__name__)


class CancelledJobs:
    def __init__(self, open_consumer: Callable[[], KafkaConsumer]) -> None:
        self._open_consumer = open_consumer
        self._ids: set[str] = set()
        self._lock = threading.Lock()
        self.caught_up = threading.Event()
        """Set once every cancel published before the worker started has been read."""

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._ids

    def background(self, stop: threading.Event) -> BackgroundLoop:
        """The thread that follows the topic until `stop`; the broker away is said and retried."""
        return BackgroundLoop("clip-cancels", self._follow, 1.0, stop=stop)

    def _follow(self, stop: threading.Event) -> None:
        consumer: Any = self._open_consumer()
        try:
            partitions = [TopicPartition(CLIP_CANCELS, p) for p in sorted(consumer.partitions_for_topic(CLIP_CANCELS) or ())]
            if not partitions:
                raise RuntimeError(f"topic {CLIP_CANCELS} has no partitions (not created yet?)")
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            ends = consumer.end_offsets(partitions)
            while not stop.is_set():
                for records in consumer.poll(timeout_ms=200).values():
                    with self._lock:
                        self._ids.update(record.key.decode() for record in records if record.key)
                if not self.caught_up.is_set() and all(consumer.position(tp) >= end for tp, end in ends.items()):
                    self.caught_up.set()
        finally:
            consumer.close()
