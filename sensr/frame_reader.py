"""Reading stored objects (frames, and the clips beside them) from the bucket: the one
reading module of every service (the api streams images and clips through it, the clip
worker reads frames with it). The object keys come from the index, never computed, so no
reader depends on the catalog worker's layout.

`read_ahead` keeps up to `threads` reads (and whatever the caller does with each frame,
e.g. decoding) under way while the caller consumes the results in order: memory stays
bounded by `threads` frames, and the object store's latency is hidden behind the work.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import urllib3
from urllib3 import BaseHTTPResponse
from minio import Minio
from minio.error import S3Error

from sensr.settings import S3Settings
from sensr.storage import make_s3_client

T = TypeVar("T")
R = TypeVar("R")
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket"})


class FrameGone(Exception):
    """The object is no longer stored (retention removed it after it was listed)."""


class FrameReader:
    """Whole objects by key; thread-safe (one pooled client)."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    @classmethod
    def connect(cls, s3: S3Settings, threads: int) -> FrameReader:
        pool = urllib3.PoolManager(maxsize=max(threads, 10), retries=urllib3.Retry(total=3, backoff_factor=0.2))
        return cls(make_s3_client(s3, pool), s3.s3_bucket)

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
