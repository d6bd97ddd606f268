"""Reading stored frames (and the clips beside them): the one reading module of every
service (the api's images, thumbnails, live view and zip exports, the clip worker, the
notifier's key frames). A frame is read from its index row (`original`, `thumbnail`),
whatever the layout the row names (`sensr.index.FrameRecord.segment_key`): a range of a
sealed segment object (one ranged GET), Kafka until the segment is sealed
(`sensr.kafka_frames`), or one object per frame for frames stored before segments. No
reader depends on the catalog worker's layout.

Thumbnails of a segment are stored contiguously at its start; the reader keeps the
thumbnail blocks of the `thumbnail_blocks` segments read last (an LRU), so a page of a
hundred thumbnails costs one or two object requests, not a hundred.

`read_ahead` keeps up to `threads` reads (and whatever the caller does with each frame,
e.g. decoding) under way while the caller consumes the results in order: memory stays
bounded by `threads` frames, and the object store's latency is hidden behind the work.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import urllib3
from urllib3 import BaseHTTPResponse
from minio import Minio
from minio.error import S3Error

from sensr.broker import FRAMES, THUMBNAILS
from sensr.frames import H_FRAME_ID
from sensr.index import FrameRecord
from sensr.kafka_frames import KafkaFrames, RecordGone
from sensr.settings import S3Settings
from sensr.storage import make_s3_client

T = TypeVar("T")
R = TypeVar("R")
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket"})


class FrameGone(Exception):
    """The object is no longer stored (retention removed it after it was listed)."""


THUMBNAIL_BLOCKS = 64  # segments' thumbnail blocks kept (about 0.5 MB each at 1 fps)


class FrameReader:
    """Frames by index row, and whole objects by key; thread-safe (one pooled client, one
    pool of Kafka readers)."""

    def __init__(self, client: Minio, bucket: str, kafka: KafkaFrames | None = None,
                 thumbnail_blocks: int = THUMBNAIL_BLOCKS) -> None:
        """`kafka`: where frames not yet in a sealed segment are read (None: such frames are
        `FrameGone`, for readers that only ever see stored frames)."""
        self._client = client
        self._bucket = bucket
        self._kafka = kafka
        self._blocks: OrderedDict[str, bytes] = OrderedDict()
        self._blocks_limit = thumbnail_blocks
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, s3: S3Settings, threads: int, kafka_bootstrap: str | None = None,
                max_record_bytes: int = 0) -> FrameReader:
        pool = urllib3.PoolManager(maxsize=max(threads, 10), retries=urllib3.Retry(total=3, backoff_factor=0.2))
        kafka = None if kafka_bootstrap is None else KafkaFrames(kafka_bootstrap, max(threads, 4),
                                                                 max_record_bytes=max_record_bytes)
        return cls(make_s3_client(s3, pool), s3.s3_bucket, kafka)

    def close(self) -> None:
        if self._kafka is not None:
            self._kafka.close()

    def original(self, frame: FrameRecord) -> bytes:
        """The frame's JPEG. Raises FrameGone when it is no longer stored; S3Error,
        urllib3's or kafka-python's errors when a store fails."""
        if frame.segment_key is not None:
            return self._range(frame.segment_key, int(frame.segment_offset or 0), frame.size)
        if frame.kafka_partition is not None and frame.kafka_offset is not None:
            return self._from_kafka(FRAMES, frame.kafka_partition, frame.kafka_offset)
        return self.read(frame.object_key)

    def thumbnail(self, frame: FrameRecord) -> bytes:
        """The frame's thumbnail JPEG (errors as `original`)."""
        if frame.segment_key is not None:
            block = self._thumbnail_block(frame.segment_key, int(frame.segment_thumbnails or 0))
            start = int(frame.thumbnail_offset or 0)
            return block[start:start + int(frame.thumbnail_size or 0)]
        if frame.thumbnail_partition is not None and frame.thumbnail_kafka_offset is not None:
            return self._from_kafka(THUMBNAILS, frame.thumbnail_partition, frame.thumbnail_kafka_offset)
        return self.read(frame.thumbnail_key)

    def uploaded(self, partition: int, offset: int) -> tuple[str, bytes]:
        """The frame id and JPEG of the upload recorded on `sensr.frames` at `partition`,
        `offset`: a frame read before any index row names it. The caller checks the id is
        the frame it asked for. Raises FrameGone when Kafka no longer has the record (or
        this reader has no Kafka); kafka-python's errors as `original`."""
        if self._kafka is None:
            raise FrameGone(f"{FRAMES}/{partition}/{offset}: this reader has no Kafka")
        try:
            record = self._kafka.read(FRAMES, partition, offset)
        except RecordGone as gone:
            raise FrameGone(str(gone)) from None
        return dict(record.headers).get(H_FRAME_ID, b"").decode(errors="replace"), record.value

    def _thumbnail_block(self, segment_key: str, length: int) -> bytes:
        with self._lock:
            block = self._blocks.get(segment_key)
            if block is not None:
                self._blocks.move_to_end(segment_key)
                return block
        block = self._range(segment_key, 0, length)  # two readers may both fetch it: harmless
        with self._lock:
            self._blocks[segment_key] = block
            while len(self._blocks) > self._blocks_limit:
                self._blocks.popitem(last=False)
        return block

    def _range(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        response = self.open(key, offset, length)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def _from_kafka(self, topic: str, partition: int, offset: int) -> bytes:
        if self._kafka is None:
            raise FrameGone(f"{topic}/{partition}/{offset}: not sealed yet and this reader has no Kafka")
        try:
            return self._kafka.read(topic, partition, offset).value
        except RecordGone as gone:
            raise FrameGone(str(gone)) from None

    def open(self, key: str, offset: int = 0, length: int = 0) -> BaseHTTPResponse:
        """The object's body (from `offset`, `length` bytes; 0: to the end), to read and
        then `close()` and `release_conn()`. Raises FrameGone when the object is missing;
        S3Error or urllib3's errors when the store fails."""
        try:
            return self._client.get_object(self._bucket, key, offset=offset, length=length)
        except S3Error as error:
            if error.code in MISSING_CODES:
                raise FrameGone(key) from None
            raise

    def size(self, key: str) -> int:
        """The object's size in bytes (errors as `open`)."""
        try:
            return int(self._client.stat_object(self._bucket, key).size or 0)
        except S3Error as error:
            if error.code in MISSING_CODES or error.code == "NoSuchObject":
                raise FrameGone(key) from None
            raise

    def read(self, key: str) -> bytes:
        """The whole object's bytes (errors as `open`)."""
        response = self.open(key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def ping(self) -> bool:
        """True when the bucket is reachable (blocks)."""
        return self._client.bucket_exists(self._bucket)


def read_ahead(items: Iterable[T], work: Callable[[T], R], threads: int) -> Iterator[R]:
    """`work(item)` for each item, run `threads` at a time ahead of the consumer, yielded
    in the items' order. Closing the iterator cancels what has not started."""
    with ThreadPoolExecutor(threads, thread_name_prefix="frame-read") as pool:
        pending: deque[Future[R]] = deque()
        source = iter(items)
        try:
            for item in source:
                pending.append(pool.submit(work, item))
                if len(pending) >= 2 * threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
