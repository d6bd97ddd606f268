"""One clip_worker replica: connects its dependencies, runs the job loop, serves /healthz
/readyz /metrics on its side port, and shuts down in order; run by
`sensr.lifecycle.run_service` (start → serve → drain → close)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

from kafka.errors import KafkaError
from minio.error import S3Error
from sqlalchemy.exc import DBAPIError
from urllib3.exceptions import HTTPError as TransportError

from clip_worker.cancels import CancelledJobs
from clip_worker.consumer import JobLoop
from clip_worker.job import JobRenderer
from clip_worker.store import ClipStore
from sensr.broker import close_quietly, ensure_topics, make_consumer, make_producer
from sensr.frame_reader import FrameReader
from sensr.health import OpsServer
from sensr.index import FrameIndex
from sensr.lifecycle import kafka_reachable, wait_for
from sensr.logs import get_logger
from sensr.settings import Settings

log = get_logger(__name__)
T = TypeVar("T")
RETRY_MAX_SECONDS = 30.0


class ClipWorker:
    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self._settings, self._stop = settings, stop
        self._loop: JobLoop | None = None
        self._cancels: CancelledJobs | None = None
        self._store: ClipStore | None = None

    def ready(self) -> dict[str, bool]:
        """/readyz: consuming, cancels read up to date, Kafka and the bucket answer."""
        store = self._store
        return {"consuming": self._loop is not None,
                "cancels_loaded": self._cancels is not None and self._cancels.caught_up.is_set(),
                "kafka": kafka_reachable(self._settings.kafka.kafka_bootstrap),
                "storage": store is not None and _answers(store.ping)}

    def start(self) -> None:
        self._resources = ExitStack()
        self._resources.enter_context(self._connected())

    def serve(self) -> None:
        assert self._loop is not None  # started
        self._loop.run(self._stop)

    def drain(self) -> None:
        """Nothing left: a render under way was cancelled, uncommitted, when `serve` returned."""

    def close(self) -> None:
        self._resources.close()

    @contextmanager
    def _connected(self) -> Iterator[None]:
        core, kafka, clips = self._settings.core, self._settings.kafka, self._settings.clips
        with ExitStack() as resources:
            resources.callback(log.info, "clip_worker_stopped")
            ops = OpsServer(clips.clip_ops_host, clips.clip_ops_port, self.ready).start()
            resources.callback(ops.stop)
            log.info("ops_listening", host=clips.clip_ops_host, port=ops.port)
            self._wait_for("kafka topics", lambda: ensure_topics(core, kafka), KafkaError)
            store = ClipStore.connect(self._settings.s3)
            self._wait_for("bucket", store.ping, S3Error, TransportError)
            self._store = store
            index = self._wait_for("index database", lambda: FrameIndex.open(self._settings.database_url()),
                                   DBAPIError)
            resources.callback(index.close)
            resources.callback(self._stop.set)  # ends the cancels thread even when the loop died of an error
            cancels = CancelledJobs(lambda: make_consumer(core, kafka, group_id=None, client_id="sensr-clip-cancels"))
            cancels.start(self._stop)
            resources.callback(cancels.join)
            self._cancels = cancels
            producer = make_producer(core, kafka, client_id="sensr-clip")
            resources.callback(close_quietly, "producer", lambda: producer.close(10))
            consumer = make_consumer(core, kafka, group_id=clips.clip_group_id, client_id="sensr-clip",
                                     session_timeout_ms=clips.clip_session_timeout_ms,
                                     heartbeat_interval_ms=max(1000, clips.clip_session_timeout_ms // 5),
                                     max_poll_records=1)
            resources.callback(close_quietly, "consumer", lambda: consumer.close(autocommit=False))
            ack_timeout = kafka.kafka_request_timeout_ms / 1000
            reader = FrameReader.connect(self._settings.s3, clips.clip_read_threads)
            scratch = core.data_dir / "clip-scratch"
            scratch.mkdir(parents=True, exist_ok=True)
            renderer = JobRenderer(index, reader, store, producer, clips.clip_read_threads, ack_timeout, scratch)
            self._wait_for("cancelled jobs", lambda: _raise_unless(cancels.caught_up.wait(1.0)), TimeoutError)
            self._loop = JobLoop(consumer, renderer, cancels, producer, ack_timeout, RETRY_MAX_SECONDS)
            log.info("clip_worker_started", group=clips.clip_group_id)
            yield

    def _wait_for(self, what: str, attempt: Callable[[], T], *errors: type[BaseException]) -> T:
        return wait_for(what, attempt, self._stop, max_delay=self._settings.core.dependency_wait_max_seconds,
                        errors=errors)


def _raise_unless(done: bool) -> None:
    if not done:
        raise TimeoutError("not caught up yet")


def _answers(probe: Callable[[], bool]) -> bool:
    try:
        return bool(probe())
    except Exception:  # a failing probe means "not ready", which is what /readyz reports
        return False
