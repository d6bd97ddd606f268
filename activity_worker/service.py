"""One activity_worker replica: connects its dependencies, runs the scoring loop, serves
/healthz /readyz /metrics, and shuts down in order; run by `sensr.lifecycle.run_service`
(start → serve → drain → close), like the catalog worker.

Start-up waits (`sensr.lifecycle.wait_for`: with backoff, interruptible) for the Kafka
topics (`sensr.activity` is created with the others), the index database and the camera
table. Shutdown: the loop finishes and commits its batch, then the consumer leaves the
group (the other replicas take its cameras over at once), then the producer and the
index close.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError

from activity_worker.consumer import ActivityLoop
from activity_worker.processor import ActivityProcessor
from sensr.broker import close_quietly, ensure_topics, make_consumer, make_producer
from sensr.cameras import CameraTable
from sensr.health import OpsServer
from sensr.index import FrameIndex
from sensr.lifecycle import wait_for
from sensr.logs import get_logger
from sensr.settings import Settings

log = get_logger(__name__)
T = TypeVar("T")
DEPENDENCIES = ("index", "kafka")


class ActivityWorker:
    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self._settings = settings
        self._stop = stop
        self._table = CameraTable(settings.core, settings.kafka)
        self._loop: ActivityLoop | None = None
        self._resources = ExitStack()

    def ready(self) -> dict[str, bool]:
        """/readyz: the camera table is loaded, the loop runs and no dependency is failing it."""
        failing = self._loop.failing if self._loop else None
        return {"cameras_loaded": self._table.loaded.is_set(), "consuming": self._loop is not None,
                **{dependency: failing != dependency for dependency in DEPENDENCIES}}

    def start(self) -> None:
        """Connect the dependencies, waiting for each; raises `sensr.lifecycle.Stopped`
        when asked to stop first."""
        self._resources.enter_context(self._connected())

    def serve(self) -> None:
        """Score until the stop event is set."""
        assert self._loop is not None  # started
        self._loop.run(self._stop)

    def drain(self) -> None:
        """Nothing left to do: the loop finished and committed the batch in hand before `serve` returned."""

    def close(self) -> None:
        """Leave the group, then close the producer, the table and the index."""
        self._resources.close()

    @contextmanager
    def _connected(self) -> Iterator[None]:
        core, kafka, activity = self._settings.core, self._settings.kafka, self._settings.activity
        with ExitStack() as resources:  # closed in reverse: consumer, producer, index, table, ops
            resources.callback(log.info, "activity_worker_stopped")
            self._table.start()
            resources.callback(self._table.stop)
            ops = OpsServer(activity.activity_ops_host, activity.activity_ops_port, self.ready).start()
            resources.callback(ops.stop)
            log.info("ops_listening", host=activity.activity_ops_host, port=ops.port)

            self._wait_for("kafka topics", lambda: ensure_topics(core, kafka), KafkaError)
            index = self._wait_for("index database", lambda: FrameIndex.open(self._settings.database_url()),
                                   DBAPIError)
            resources.callback(index.close)
            self._wait_for("camera table", self._table.wait_loaded, TimeoutError)

            producer = make_producer(core, kafka, client_id="sensr-activity")
            resources.callback(close_quietly, "producer", lambda: producer.close(10))
            consumer = make_consumer(core, kafka, group_id=activity.activity_group_id, client_id="sensr-activity",
                                     session_timeout_ms=activity.activity_session_timeout_ms)
            resources.callback(close_quietly, "consumer", lambda: consumer.close(autocommit=False))  # leaves the group

            processor = ActivityProcessor(self._table, index, producer, kafka.kafka_request_timeout_ms / 1000)
            self._loop = ActivityLoop(consumer, processor, self._table, activity.activity_batch_size,
                                      activity.activity_retry_max_seconds, activity.activity_tick_seconds)
            log.info("activity_worker_started", group=activity.activity_group_id)
            yield

    def _wait_for(self, what: str, attempt: Callable[[], T], *errors: type[BaseException]) -> T:
        """`attempt()` until it succeeds, waiting with backoff after each of `errors`."""
        return wait_for(what, attempt, self._stop, max_delay=self._settings.core.dependency_wait_max_seconds,
                        errors=errors)
