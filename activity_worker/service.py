"""One activity_worker replica: connects its dependencies, runs the scoring loop, serves
/healthz /readyz /metrics, and shuts down in order: a `sensr.worker.Worker`, like the catalog worker.

Start-up waits (`sensr.lifecycle.wait_for`: with backoff, interruptible) for the Kafka
topics (`sensr.activity` is created with the others), the index database and the camera
table. Shutdown: the loop finishes and commits its batch, then the consumer leaves the
group (the other replicas take its cameras over at once), then the producer and the
index close.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack

from activity_worker.consumer import ActivityLoop
from activity_worker.processor import ActivityProcessor
from sensr.cameras import CameraTable
from sensr.settings import Settings
from sensr.worker import Worker


class ActivityWorker(Worker):
    name = "activity_worker"
    dependencies = ("index", "kafka")

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        super().__init__(settings, stop)
        self._table = CameraTable(settings.core, settings.kafka)

    def ready(self) -> dict[str, bool]:
        """/readyz: the camera table is loaded, the loop runs and no dependency is failing it."""
        return {"cameras_loaded": self._table.loaded.is_set(), **super().ready()}

    def connect(self, resources: ExitStack) -> ActivityLoop:
        kafka, activity = self._settings.kafka, self._settings.activity
        self._table.start()
        resources.callback(self._table.stop)
        self.serve_ops(resources, activity.activity_ops_host, activity.activity_ops_port)
        self.wait_for_topics()
        index = self.open_index(resources)
        self.wait_for("camera table", self._table.wait_loaded, TimeoutError)
        producer = self.open_producer(resources, "sensr-activity")
        consumer = self.open_consumer(resources, activity.activity_group_id, "sensr-activity",
                                      session_timeout_ms=activity.activity_session_timeout_ms)
        processor = ActivityProcessor(self._table, index, producer, kafka.kafka_request_timeout_ms / 1000)
        return ActivityLoop(consumer, processor, self._table, activity.activity_batch_size,
                            activity.activity_retry_max_seconds, activity.activity_tick_seconds)
