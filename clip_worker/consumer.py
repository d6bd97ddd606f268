"""The job loop: take one job from `sensr.clip-jobs`, render it, commit it, take the next.

A render may take minutes, longer than Kafka lets a member go without polling
(`max.poll.interval.ms`). So the render runs in a thread while this loop keeps polling
with every assigned partition paused: the group keeps the worker as a member, and no
more records are fetched. The job's offset is committed only once its outcome is
published, so a worker killed mid-job leaves it uncommitted, and the next owner of the
partition (after `SENSR_CLIP_SESSION_TIMEOUT_MS`) renders it again, to the same key.

A stop request during a render cancels it without committing: the job is rendered
again by whichever worker owns the partition next. A cancel by the user ends the render,
publishes `cancelled` and commits, so the worker takes its next job at once. A failing
dependency puts the job back (seek to its offset) after a pause that doubles.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from clip_worker import metrics
from clip_worker.cancels import CancelledJobs
from clip_worker.job import Cancelled, JobRenderer, TransientError
from clip_worker.progress import ProgressReporter
from sensr.broker import CLIP_JOBS, poll_or_wait
from sensr.clips import ClipContractError, ClipJob
from sensr.lifecycle import retry_delay
from sensr.logs import get_logger

log = get_logger(__name__)
POLL_MS = 500
BUSY_POLL_MS = 200


class JobLoop:
    def __init__(self, consumer: KafkaConsumer, renderer: JobRenderer, cancels: CancelledJobs, producer: object,
                 ack_timeout: float, retry_max_seconds: float) -> None:
        self._consumer, self._renderer, self._cancels = consumer, renderer, cancels
        self._producer, self._ack_timeout, self._retry_max = producer, ack_timeout, retry_max_seconds
        self._failures = 0
        self.busy = False

    def run(self, stop: threading.Event) -> None:
        self._consumer.subscribe([CLIP_JOBS])
        with ThreadPoolExecutor(1, thread_name_prefix="clip-render") as executor:
            while not stop.is_set():
                polled = poll_or_wait(self._consumer, stop, "clip_jobs", timeout_ms=POLL_MS, max_records=1)
                for records in polled.values():
                    for record in records:
                        self._handle(record, executor, stop)

    def _handle(self, record: object, executor: ThreadPoolExecutor, stop: threading.Event) -> None:
        partition = TopicPartition(record.topic, record.partition)  # type: ignore[attr-defined]
        offset: int = record.offset  # type: ignore[attr-defined]
        try:
            job = ClipJob.decode(record.value)  # type: ignore[attr-defined]
        except ClipContractError as error:
            log.error("clip_job_unreadable", partition=partition.partition, offset=offset, error=str(error))
            metrics.JOBS.labels("unreadable").inc()
            self._commit(partition, offset)
            return
        if job.job_id in self._cancels:
            self._finish_cancelled(job, partition, offset)
            return
        log.info("clip_job_started", job=job.job_id, camera=job.camera, speed=job.speed)

        def cancelled() -> bool:
            return stop.is_set() or job.job_id in self._cancels

        self.busy = True
        metrics.RENDERING.set(1)
        future = executor.submit(self._renderer.render, job, cancelled)
        try:
            while not future.done():
                self._consumer.pause(*self._consumer.assignment())  # also partitions assigned mid-job
                poll_or_wait(self._consumer, stop, "clip_jobs", timeout_ms=BUSY_POLL_MS)  # keeps the group's lease
            self._consumer.resume(*self._consumer.paused())
            try:
                outcome = future.result()
            except Cancelled:
                if stop.is_set():
                    log.info("clip_job_left_for_next_owner", job=job.job_id)
                    self._consumer.seek(partition, offset)
                    return
                self._finish_cancelled(job, partition, offset)
                return
            except (TransientError, KafkaError) as error:
                self._put_back(job, partition, offset, error, stop)
                return
        finally:
            self.busy = False
            metrics.RENDERING.set(0)
        self._failures = 0
        metrics.JOBS.labels(outcome.state).inc()
        log.info("clip_job_finished", job=job.job_id, state=outcome.state, reason=outcome.reason,
                 size=outcome.size, duration=outcome.duration)
        self._commit(partition, offset)

    def _finish_cancelled(self, job: ClipJob, partition: TopicPartition, offset: int) -> None:
        ProgressReporter(self._producer, job, self._ack_timeout).final("cancelled", reason="cancelled")
        metrics.JOBS.labels("cancelled").inc()
        log.info("clip_job_cancelled", job=job.job_id)
        self._commit(partition, offset)

    def _put_back(self, job: ClipJob, partition: TopicPartition, offset: int, error: BaseException,
                  stop: threading.Event) -> None:
        self._failures += 1
        delay = retry_delay(self._failures, self._retry_max)
        metrics.RETRIES.inc()
        log.warning("clip_job_retry", job=job.job_id, error=str(error), next_delay=round(delay, 2))
        self._consumer.seek(partition, offset)
        stop.wait(delay)

    def _commit(self, partition: TopicPartition, offset: int) -> None:
        try:
            self._consumer.commit({partition: OffsetAndMetadata(offset + 1, "", -1)})
        except (CommitFailedError, KafkaError) as error:
            # The partition moved to another worker meanwhile: it renders the job again.
            log.warning("clip_commit_failed", partition=partition.partition, offset=offset, error=str(error))
