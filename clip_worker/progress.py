"""Publishing a job's progress on `sensr.clip-progress`: `rendering` records at most every
`INTERVAL` seconds (with an estimate of the time left from the rate so far), and the
final record, whose acknowledgement is awaited before the job's offset is committed."""

from __future__ import annotations

import time
from typing import Any

from sensr.broker import CLIP_PROGRESS
from sensr.clips import ClipJob, ClipProgress, State
from sensr.frames import now_us

INTERVAL = 0.5


class ProgressReporter:
    def __init__(self, producer: Any, job: ClipJob, ack_timeout: float, clock: Any = time.monotonic) -> None:
        self._producer, self._job, self._ack_timeout, self._clock = producer, job, ack_timeout, clock
        self._started = clock()
        self._last = float("-inf")
        self.total = 0

    def rendering(self, done: int, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last < INTERVAL:
            return
        self._last = now
        elapsed = now - self._started
        eta = round(elapsed / done * (self.total - done), 1) if done and self.total else None
        self._send(ClipProgress(self._job.job_id, self._job.camera, "rendering", frames_done=done,
                                frames_total=self.total, eta_seconds=eta, updated_us=now_us()))

    def final(self, state: State, **fields: Any) -> ClipProgress:
        """Publish the outcome and wait for Kafka's acknowledgement (raises KafkaError)."""
        progress = ClipProgress(self._job.job_id, self._job.camera, state, frames_total=self.total,
                                updated_us=now_us(), **fields)
        self._send(progress).get(timeout=self._ack_timeout)
        return progress

    def _send(self, progress: ClipProgress) -> Any:
        return self._producer.send(CLIP_PROGRESS, key=progress.key(), value=progress.value())
