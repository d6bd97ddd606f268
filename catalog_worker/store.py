"""Object writes: each frame's original and thumbnail, frames in parallel on a thread pool.

`submit` queues a batch and returns, so the next batch can be decoded and queued while
this one is written (the pool then never waits for the consumer loop); `result` waits.

Every frame submitted is stored: one whose JPEG Pillow cannot decode completely (it
passed `check_frame`, so its header is sound) gets a placeholder thumbnail. Decodes run
within the `DecodeBudget`, so the threads together hold a bounded amount of memory.

The `minio` client is thread-safe; its connection pool is sized to the thread count so
every writer keeps a warm connection. Object keys come from the frame id
(`sensr.storage.object_keys`), so writing a frame twice leaves the same two objects.
"""

from __future__ import annotations

import io
import itertools
import os
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import certifi
import urllib3
from minio import Minio

from catalog_worker import metrics
from catalog_worker.decode_budget import DecodeBudget, decode_cost
from catalog_worker.errors import TransientError, storage_errors
from catalog_worker.thumbnails import Thumbnail, UndecodableImage, placeholder_thumbnail, render_thumbnail
from sensr.frame_check import FrameShape
from sensr.frames import FrameEvent
from sensr.index import FrameRecord
from sensr.logs import get_logger
from sensr.settings import S3Settings
from sensr.storage import ensure_bucket, make_s3_client, object_keys, remove_objects

log = get_logger(__name__)
JPEG = "image/jpeg"
DELETE_BATCH = 1000  # keys per listing and per multi-object delete (S3's limit per request)
HOUSEKEEPING_THREADS = 2  # the retention sweep and the camera purge share the writers' client


@dataclass(frozen=True, slots=True)
class Written:
    """A frame's index record and its thumbnail's bytes."""

    record: FrameRecord
    thumbnail: bytes


class PendingWrites:
    """The writes of one batch, running on the store's pool."""

    def __init__(self, futures: list[Future[Written]]) -> None:
        self._futures = futures

    def result(self) -> list[Written]:
        """Per frame, in order, its index record and thumbnail. Blocks until all writes have finished;
        raises TransientError (after cancelling the writes not yet started) if any failed:
        the caller redoes the whole batch."""
        _, pending = wait(self._futures, return_when=FIRST_EXCEPTION)
        if pending:  # one failed: the store is likely down, do not wait for each to fail
            self.abandon()
        failed = next((f.exception() for f in self._futures if not f.cancelled() and f.exception()), None)
        if failed is not None:
            raise failed
        return [future.result() for future in self._futures]

    def abandon(self) -> None:
        """Cancel the writes not started and wait for the others (their outcome is ignored)."""
        for future in self._futures:
            future.cancel()
        wait(self._futures)


def http_pool(connections: int) -> urllib3.PoolManager:
    """The SDK's default HTTP settings, but a connection per writer thread, short connect
    timeouts and few in-request retries: the batch-level retry (with backoff) takes over
    when the store is down, instead of each request stalling for minutes."""
    return urllib3.PoolManager(
        maxsize=connections,
        timeout=urllib3.Timeout(connect=5, read=60),
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class ObjectWriter:
    """Writes frames' objects to one bucket; deletes them for the retention sweep and the
    camera purge."""

    def __init__(self, client: Minio, bucket: str, threads: int, thumbnail_width: int, budget: DecodeBudget,
                 segments: bool = False) -> None:
        """`segments`: only render thumbnails (the frames go into segments,
        `catalog_worker.segments`); otherwise write each frame's two objects."""
        self._segments = segments
        self._client = client
        self._bucket = bucket
        self._thumbnail_width = thumbnail_width
        self._budget = budget
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store")

    @classmethod
    def connect(cls, s3: S3Settings, threads: int, thumbnail_width: int, decode_budget_bytes: int,
                segments: bool = False) -> "ObjectWriter":
        connections = threads + HOUSEKEEPING_THREADS
        return cls(make_s3_client(s3, http_pool(connections)), s3.s3_bucket, threads, thumbnail_width,
                   DecodeBudget(decode_budget_bytes), segments)

    @property
    def client(self) -> Minio:
        """The pooled client (shared with the segment builder)."""
        return self._client

    @property
    def bucket(self) -> str:
        return self._bucket

    def ensure_bucket(self) -> None:
        """Create the bucket if missing; raises one of STORE_ERRORS if the store is unreachable."""
        ensure_bucket(self._client, self._bucket)

    def submit(self, frames: Sequence[tuple[FrameEvent, FrameShape]]) -> "PendingWrites":
        """Queue every frame's thumbnail and two object writes on the pool; returns at once.
        Each frame comes with its shape, as `check_frame` read it from the header."""
        return PendingWrites([self._pool.submit(self._write_one, frame, shape) for frame, shape in frames])

    def delete(self, records: Sequence[FrameRecord]) -> None:
        """Delete the frames' originals and thumbnails (missing ones are fine).
        Raises TransientError if the store refused or could not be reached."""
        keys = [key for record in records for key in (record.object_key, record.thumbnail_key) if key]
        if keys:
            self._remove(keys)

    def delete_keys(self, keys: Sequence[str]) -> None:
        """Delete objects by key, at most DELETE_BATCH at a time (errors as `delete`)."""
        for start in range(0, len(keys), DELETE_BATCH):
            self._remove(keys[start:start + DELETE_BATCH])

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix`, a page of keys at a time
        (each page listed afresh, so a run cut short is simply run again); returns how
        many were deleted. Raises TransientError if the store refused or could not be reached."""
        deleted = 0
        while True:
            with storage_errors():
                listing = self._client.list_objects(self._bucket, prefix=prefix, recursive=True)
                keys = [item.object_name for item in itertools.islice(listing, DELETE_BATCH)]
            if not keys:
                return deleted
            self._remove(keys)
            deleted += len(keys)

    def _remove(self, keys: Sequence[str]) -> None:
        with storage_errors():
            errors = remove_objects(self._client, self._bucket, keys)
        if errors:
            raise TransientError("storage", f"{len(errors)} deletes refused, first: {errors[0]}")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _write_one(self, frame: FrameEvent, shape: FrameShape) -> Written:
        started = time.perf_counter()
        with self._budget.hold(decode_cost(shape, self._thumbnail_width)):
            thumbnail = self._thumbnail(frame, shape)
        original_key, thumbnail_key = "", ""
        if not self._segments:
            original_key, thumbnail_key = object_keys(frame.camera, frame.timestamp_us, frame.frame_id)
            self._put(original_key, frame.jpeg)
            self._put(thumbnail_key, thumbnail.jpeg)
        metrics.STORE_SECONDS.observe(time.perf_counter() - started)
        return Written(FrameRecord(frame_id=frame.frame_id, camera=frame.camera, timestamp_us=frame.timestamp_us,
                           size=len(frame.jpeg), width=thumbnail.width, height=thumbnail.height,
                           source=frame.source, object_key=original_key, thumbnail_key=thumbnail_key,
                           filename=frame.filename, camera_time_us=frame.camera_time_us), thumbnail.jpeg)

    def _thumbnail(self, frame: FrameEvent, shape: FrameShape) -> Thumbnail:
        try:
            return render_thumbnail(frame.jpeg, self._thumbnail_width)
        except UndecodableImage as error:
            metrics.FRAMES_UNDECODABLE.inc()
            log.warning("frame_stored_undecodable", camera=frame.camera, frame_id=frame.frame_id,
                        width=shape.width, height=shape.height, error=str(error))
            return placeholder_thumbnail(shape.width, shape.height, self._thumbnail_width)

    def _put(self, key: str, data: bytes) -> None:
        with storage_errors():
            self._client.put_object(self._bucket, key, io.BytesIO(data), len(data), content_type=JPEG)
