"""One clip_worker replica: connects its dependencies, runs the job loop, serves /healthz
/readyz /metrics on its side port, and shuts down in order: a `sensr.worker.Worker`
(start → serve → drain → close)."""

from __future__ import annotations

from contextlib import ExitStack

from minio.error import S3Error
from urllib3.exceptions import HTTPError as TransportError

from clip_worker.cancels import CancelledJobs
from clip_worker.consumer import JobLoop
from clip_worker.job import JobRenderer
from clip_worker.store import ClipStore
from sensr.broker import make_consumer, max_record_bytes
from sensr.frame_reader import FrameReader
from sensr.health import answers
from sensr.lifecycle import kafka_reachable
from sensr.worker import Worker

RETRY_MAX_SECONDS = 30.0


class ClipWorker(Worker):
    name = "clip_worker"
    _cancels: CancelledJobs | None = None
    _store: ClipStore | None = None

    def ready(self) -> dict[str, bool]:
        """/readyz: consuming, cancels read up to date, Kafka and the bucket answer."""
        store = self._store
        return {**super().ready(),
                "cancels_loaded": self._cancels is not None and self._cancels.caught_up.is_set(),
                "kafka": kafka_reachable(self._settings.kafka.kafka_bootstrap),
                "storage": store is not None and answers(store.ping)}

    def connect(self, resources: ExitStack) -> JobLoop:
        core, kafka, clips = self._settings.core, self._settings.kafka, self._settings.clips
        self.serve_ops(resources, clips.clip_ops_host, clips.clip_ops_port)
        self.wait_for_topics()
        store = ClipStore.connect(self._settings.s3)
        self.wait_for("bucket", store.ping, S3Error, TransportError)
        self._store = store
        index = self.open_index(resources)
        cancels = CancelledJobs(lambda: make_consumer(core, kafka, group_id=None, client_id="sensr-clip-cancels"))
        self.run_in_background(resources, cancels.background(self._stop))
        self._cancels = cancels
        producer = self.open_producer(resources, "sensr-clip")
        consumer = self.open_consumer(resources, clips.clip_group_id, "sensr-clip",
                                      session_timeout_ms=clips.clip_session_timeout_ms,
                                      heartbeat_interval_ms=max(1000, clips.clip_session_timeout_ms // 5),
                                      max_poll_records=1)
        ack_timeout = kafka.kafka_request_timeout_ms / 1000
        reader = FrameReader.connect(self._settings.s3, clips.clip_read_threads, kafka.kafka_bootstrap,
                                     max_record_bytes(core))
        resources.callback(reader.close)
        scratch = core.data_dir / "clip-scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        renderer = JobRenderer(index, reader, store, producer, clips.clip_read_threads, ack_timeout, scratch)
        self.wait_for("cancelled jobs", lambda: _raise_unless(cancels.caught_up.wait(1.0)), TimeoutError)
        return JobLoop(consumer, renderer, cancels, producer, ack_timeout, RETRY_MAX_SECONDS)


def _raise_unless(done: bool) -> None:
    if not done:
        raise TimeoutError("not caught up yet")

