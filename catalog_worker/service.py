"""One catalog_worker replica: connects its dependencies, runs the consumer loop and the
retention sweep, serves /healthz /readyz /metrics, and shuts down in order; run by
`sensr.lifecycle.run_service` (start → serve → drain → close).

Start-up waits (`sensr.lifecycle.wait_for`: with backoff, interruptible) for what a fresh
stack may not have yet: Kafka topics, the bucket, the index database, the camera table.
Shutdown order matters: the loop finishes and commits its batch, then the consumer closes
(leaving the group, so the other replicas take over at once), then the producer, store
and index close.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError

from catalog_worker.announce import Announcer
from catalog_worker.consumer import ConsumerLoop
from catalog_worker.dedup import DuplicateFilter
from catalog_worker.errors import STORE_ERRORS
from catalog_worker.known_cameras import DeletionTrackingTable, KnownCameras
from catalog_worker.pipeline import BatchProcessor
from catalog_worker.purge import CameraPurger
from catalog_worker.retention import RetentionSweeper
from catalog_worker.store import ObjectWriter
from sensr.broker import FRAMES, close_quietly, ensure_topics, make_consumer, make_producer
from sensr.index import FrameIndex
from sensr.lifecycle import wait_for
from sensr.logs import get_logger
from sensr.health import OpsServer
from sensr.settings import Settings

log = get_logger(__name__)
T = TypeVar("T")
DEPENDENCIES = ("storage", "index", "kafka", "cameras")


class CatalogWorker:
    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self._settings = settings
        self._stop = stop
        self._table = DeletionTrackingTable(settings.core, settings.kafka)
        self._loop: ConsumerLoop | None = None

    def ready(self) -> dict[str, bool]:
        """/readyz: the camera table is loaded, the loop runs and no dependency is failing it."""
        failing = self._loop.failing if self._loop else None
        return {"cameras_loaded": self._table.loaded.is_set(), "consuming": self._loop is not None,
                **{dependency: failing != dependency for dependency in DEPENDENCIES}}

    def start(self) -> None:
        """Connect the dependencies, waiting for each; raises `sensr.lifecycle.Stopped`
        when asked to stop first."""
        self._resources = ExitStack()
        self._resources.enter_context(self._connected())

    def serve(self) -> None:
        """Consume until the stop event is set."""
        assert self._loop is not None  # started
        self._loop.run(self._stop)

    def drain(self) -> None:
        """Nothing left to do: the loop finished and committed the batch in hand before `serve` returned."""

    def close(self) -> None:
        """Leave the group, then close the clients, the index and the store."""
        self._resources.close()

    @contextmanager
    def _connected(self) -> Iterator[None]:
        core, kafka, catalog = self._settings.core, self._settings.kafka, self._settings.catalog
        with ExitStack() as resources:  # closed in reverse: consumer, producer, index, store, ...
            resources.callback(log.info, "catalog_worker_stopped")
            self._table.start()
            resources.callback(self._table.stop)
            ops = OpsServer(catalog.catalog_ops_host, catalog.catalog_ops_port, self.ready).start()
            resources.callback(ops.stop)
            log.info("ops_listening", host=catalog.catalog_ops_host, port=ops.port)
            store = ObjectWriter.connect(self._settings.s3, catalog.catalog_upload_threads, catalog.thumbnail_width,
                                        catalog.catalog_decode_budget_bytes)
            resources.callback(store.close)

            self._wait_for("kafka topics", lambda: ensure_topics(core, kafka), KafkaError)
            self._wait_for("bucket", store.ensure_bucket, *STORE_ERRORS)
            index = self._wait_for("index database", lambda: FrameIndex.open(self._settings.database_url()),
                                   DBAPIError)
            resources.callback(index.close)
            self._wait_for("camera table", self._table.wait_loaded, TimeoutError)

            cameras = KnownCameras(self._table, catalog.catalog_camera_sync_seconds, catalog.retention_days)
            sweeper = RetentionSweeper(index, store, cameras, catalog.retention_sweep_seconds)
            sweeping = threading.Thread(target=sweeper.run, args=(self._stop,), name="retention", daemon=True)
            sweeping.start()
            resources.callback(sweeping.join, 30)
            purger = CameraPurger(self._table, store, index, catalog.catalog_purge_seconds)
            purging = threading.Thread(target=purger.run, args=(self._stop,), name="camera-purge", daemon=True)
            purging.start()
            resources.callback(purging.join, 30)
            resources.callback(self._stop.set)  # ends sweep and purge even when the loop died of an error
            producer = make_producer(core, kafka, client_id="sensr-catalog")
            resources.callback(close_quietly, "producer", lambda: producer.close(10))
            consumer = make_consumer(core, kafka, group_id=catalog.catalog_group_id, client_id="sensr-catalog",
                                     session_timeout_ms=catalog.catalog_session_timeout_ms)
            resources.callback(close_quietly, "consumer", lambda: consumer.close(autocommit=False))  # leaves the group

            announcer = Announcer(producer, kafka.kafka_request_timeout_ms / 1000)
            process = BatchProcessor(cameras, store, index, announcer, core.max_frame_bytes, core.max_frame_pixels,
                                     DuplicateFilter(index, catalog.reupload_window))
            self._loop = ConsumerLoop(consumer, FRAMES, process, catalog.catalog_batch_size,
                                      catalog.catalog_retry_max_seconds)
            log.info("catalog_worker_started", group=catalog.catalog_group_id)
            yield

    def _wait_for(self, what: str, attempt: Callable[[], T], *errors: type[BaseException]) -> T:
        """`attempt()` until it succeeds, waiting with backoff after each of `errors`."""
        return wait_for(what, attempt, self._stop, max_delay=self._settings.core.dependency_wait_max_seconds,
                        errors=errors)
