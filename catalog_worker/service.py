"""One catalog_worker replica: connects its dependencies, runs the consumer loop and the
retention sweep, serves /healthz /readyz /metrics, and shuts down in order; run by
a `sensr.worker.Worker` (start → serve → drain → close).

Start-up waits (`sensr.lifecycle.wait_for`: with backoff, interruptible) for what a fresh
stack may not have yet: Kafka topics, the bucket, the index database, the camera table.
Shutdown order matters: the loop finishes and commits its batch, then the consumer closes
(leaving the group, so the other replicas take over at once), then the producer, store
and index close.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack

from kafka.errors import KafkaError

from catalog_worker.announce import Announcer
from catalog_worker.consumer import ConsumerLoop
from catalog_worker.dedup import DuplicateFilter
from catalog_worker.errors import STORE_ERRORS
from catalog_worker.frames_retention import EXIT_CONFIG, RetentionTooShort, check_frames_retention
from catalog_worker.known_cameras import DeletionTrackingTable, KnownCameras
from catalog_worker.malloc import return_large_blocks_to_the_os
from catalog_worker.pipeline import BatchProcessor
from catalog_worker.purge import CameraPurger
from catalog_worker.retention import RetentionSweeper
from catalog_worker.segments import SegmentBuilder, StaleSegmentSweeper
from catalog_worker.store import ObjectWriter
from sensr.broker import FRAMES
from sensr.settings import Settings
from sensr.worker import Worker


class CatalogWorker(Worker):
    name = "catalog_worker"
    dependencies = ("storage", "index", "kafka", "cameras")

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        super().__init__(settings, stop)
        return_large_blocks_to_the_os()
        self._table = DeletionTrackingTable(settings.core, settings.kafka)

    def ready(self) -> dict[str, bool]:
        """/readyz: the camera table is loaded, the loop runs and no dependency is failing it."""
        return {"cameras_loaded": self._table.loaded.is_set(), **super().ready()}

    def connect(self, resources: ExitStack) -> ConsumerLoop:
        core, kafka, catalog = self._settings.core, self._settings.kafka, self._settings.catalog
        self._table.start()
        resources.callback(self._table.stop)
        self.serve_ops(resources, catalog.catalog_ops_host, catalog.catalog_ops_port)
        store = ObjectWriter.connect(self._settings.s3, catalog.catalog_upload_threads, catalog.thumbnail_width,
                                    catalog.catalog_decode_budget_bytes, catalog.catalog_segments)
        resources.callback(store.close)
        self.wait_for_topics()
        if catalog.catalog_segments:
            try:
                self.wait_for("frames topic retention",
                              lambda: check_frames_retention(kafka.kafka_bootstrap, catalog.segment_max_age_s),
                              KafkaError)
            except RetentionTooShort:
                raise SystemExit(EXIT_CONFIG) from None
        self.wait_for("bucket", store.ensure_bucket, *STORE_ERRORS)
        index = self.open_index(resources)
        segments = None
        if catalog.catalog_segments:
            segments = SegmentBuilder(store.client, store.bucket, index, catalog.segment_max_age_s,
                                      catalog.segment_max_bytes)
            resources.callback(segments.close)
            self.run_in_background(resources, StaleSegmentSweeper(index, store.delete_keys).background(self._stop))
        self.wait_for("camera table", self._table.wait_loaded, TimeoutError)

        cameras = KnownCameras(self._table, catalog.catalog_camera_sync_seconds, catalog.retention_days)
        sweeper = RetentionSweeper(index, store, cameras, catalog.retention_sweep_seconds)
        self.run_in_background(resources, sweeper.background(self._stop))
        purger = CameraPurger(self._table, store, index, catalog.catalog_purge_seconds)
        self.run_in_background(resources, purger.background(self._stop))
        producer = self.open_producer(resources, "sensr-catalog")
        consumer = self.open_consumer(resources, catalog.catalog_group_id, "sensr-catalog",
                                      session_timeout_ms=catalog.catalog_session_timeout_ms)
        process = BatchProcessor(cameras, store, index, Announcer(producer, kafka.kafka_request_timeout_ms / 1000),
                                 core.max_frame_bytes, core.max_frame_pixels,
                                 DuplicateFilter(index, catalog.reupload_window), segments)
        return ConsumerLoop(consumer, FRAMES, process, catalog.catalog_batch_size, catalog.catalog_retry_max_seconds)
