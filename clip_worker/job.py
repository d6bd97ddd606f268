"""Rendering one job: choose the frames (`selection`), read and prepare them ahead of the
encoder (`sensr.frame_reader.read_ahead`, decoding in those threads too), encode
(`render`), upload the MP4 under the job's own key, report progress and the outcome.

Outcomes: `ready`; `failed` with a reason for what no retry can change (no frames in the
range, a frame that is not a decodable JPEG, an unknown time zone); `cancelled`. What may
pass (the object store, the index or Kafka not answering) raises `TransientError`: the
job is not committed and is tried again.
"""

from __future__ import annotations

import tempfile
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka.errors import KafkaError
from minio.error import S3Error
from PIL import Image, UnidentifiedImageError
from sqlalchemy.exc import DBAPIError
from urllib3.exceptions import HTTPError as TransportError

from clip_worker import metrics
from clip_worker.progress import ProgressReporter
from clip_worker.render import caption_for, encode, output_size, prepare
from clip_worker.selection import Placed, choose, place
from clip_worker.store import ClipStore
from sensr.clips import ClipJob, ClipProgress
from sensr.frame_reader import FrameGone, FrameReader, read_ahead
from sensr.index import FrameIndex
from sensr.logs import get_logger

log = get_logger(__name__)


class TransientError(Exception):
    """A dependency failed; the job should be tried again later."""


class Cancelled(Exception):
    """The job was cancelled (or the worker asked to stop) while it rendered."""


class JobRenderer:
    def __init__(self, index: FrameIndex, reader: FrameReader, store: ClipStore, producer: Any, read_threads: int,
                 ack_timeout: float, scratch: Path) -> None:
        """`scratch`: the folder each MP4 is written to before its upload (one file per job)."""
        self._index, self._reader, self._store, self._producer = index, reader, store, producer
        self._threads, self._ack_timeout, self._scratch = read_threads, ack_timeout, scratch

    def render(self, job: ClipJob, cancelled: Callable[[], bool]) -> ClipProgress:
        """Render `job` and publish its outcome, which is returned. Raises Cancelled once
        `cancelled()` turns true (nothing published: the caller knows whether the user
        cancelled or the worker stops), TransientError when a dependency failed."""
        report = ProgressReporter(self._producer, job, self._ack_timeout)
        started = time.monotonic()
        try:
            return self._render(job, cancelled, report)
        except (S3Error, TransportError, DBAPIError, KafkaError, OSError) as error:
            raise TransientError(f"{type(error).__name__}: {error}") from error
        finally:
            metrics.RENDER_SECONDS.observe(time.monotonic() - started)

    def _render(self, job: ClipJob, cancelled: Callable[[], bool], report: ProgressReporter) -> ClipProgress:
        try:
            zoneinfo.ZoneInfo(job.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return report.final("failed", reason=f"unknown time zone {job.time_zone!r}")
        report.rendering(0, force=True)
        placed = place(choose(self._index, job), job)
        report.total = len(placed)
        if not placed:
            return report.final("failed", reason="the camera has no frames in this range")
        first = placed[0].frame
        size = output_size(first.width, first.height, job.max_width, job.max_height)
        report.rendering(0, force=True)

        def prepared(item: Placed) -> tuple[Image.Image, int] | None:
            try:
                jpeg = self._reader.original(item.frame)
            except FrameGone:
                metrics.FRAMES_GONE.inc()
                return None
            caption = caption_for(item.frame.timestamp_us, job.time_zone) if job.timestamp else None
            return prepare(jpeg, size, caption), item.pts

        encoded = 0

        def on_frame(done: int) -> None:
            nonlocal encoded
            encoded = done
            metrics.FRAMES.inc()
            if cancelled():
                raise Cancelled(job.job_id)
            report.rendering(done)

        with tempfile.TemporaryDirectory(prefix="clip-", dir=self._scratch) as scratch:
            path = Path(scratch) / "clip.mp4"
            pictures = (picture for picture in read_ahead(placed, prepared, self._threads) if picture is not None)
            try:
                duration = encode(pictures, path, size, job.fps, on_frame)
            except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError) as error:
                return report.final("failed", reason=f"a stored frame could not be decoded: {error}")
            if encoded == 0:
                return report.final("failed", reason="the range's frames are no longer stored")
            if cancelled():  # cancelled (or deleted) while the encoder finished: store nothing
                raise Cancelled(job.job_id)
            self._store.upload(job.object_key, path)
            size_bytes = path.stat().st_size
        return report.final("ready", frames_done=encoded, size=size_bytes, duration=round(duration, 3))
