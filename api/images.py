"""Frame images (originals and thumbnails) read from the S3 bucket and streamed out.

The minio SDK blocks, so every call runs in the worker pool; the body is read in 64 KiB
pieces, one pool call each, so a large original never sits whole in memory and a slow
client holds no more than one piece. Frames never change once stored, which makes the
caching rules simple: the ETag is derived from the frame id alone (a revalidation costs
no S3 request) and responses may be cached for a year, `immutable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from kafka.errors import KafkaError
from minio.error import S3Error
from urllib3.exceptions import HTTPError as TransportError

from api.errors import NotFound, Unavailable
from sensr.frame_reader import FrameGone, FrameReader
from sensr.index import FrameRecord
from sensr.logs import get_logger

log = get_logger(__name__)
CHUNK_BYTES = 64 * 1024
CACHE_FOREVER = "max-age=31536000, immutable"
T = TypeVar("T")


def frame_etag(frame_id: str, variant: str) -> str:
    """A strong ETag for one rendition ("image" or "thumbnail") of a frame."""
    return f'"{frame_id}.{variant}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or any listed tag equal to `etag` (weak comparison)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


class StoredObject:
    """An open object body; iterate `chunks()` once, then it closes itself."""

    def __init__(self, response: Any, executor: Executor) -> None:
        self._response = response
        self._executor = executor
        length = response.headers.get("Content-Length")
        self.size: int | None = int(length) if length is not None else None

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        try:
            while chunk := await loop.run_in_executor(self._executor, self._response.read, CHUNK_BYTES):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()
        self._response.release_conn()


class ObjectReader:
    """Streams stored objects (originals, thumbnails, clips) to the api's clients, through
    the one reading module, `sensr.frame_reader.FrameReader`, on the worker pool; the
    catalog worker's `ObjectWriter` writes frames."""

    def __init__(self, reader: FrameReader, executor: Executor) -> None:
        self._reader = reader
        self._executor = executor

    async def open(self, key: str, offset: int = 0, length: int = 0) -> StoredObject:
        """The object under `key` (from `offset`, `length` bytes; 0: to its end). Raises
        NotFound when it is gone (a frame removed by retention after it was listed) and
        Unavailable when the store does not answer."""
        return StoredObject(await self._call(key, self._reader.open, key, offset, length), self._executor)

    async def frame(self, frame: FrameRecord, thumbnail: bool = False) -> bytes:
        """A frame's JPEG (its thumbnail's with `thumbnail`), whatever layout its row names
        (errors as `open`)."""
        read = self._reader.thumbnail if thumbnail else self._reader.original
        return await self._call(frame.frame_id, read, frame)

    def frame_now(self, frame: FrameRecord) -> bytes:
        """A frame's JPEG, for code that already runs in a worker thread (errors as `open`)."""
        with _store_errors(frame.frame_id):
            return self._reader.original(frame)

    async def size(self, key: str) -> int:
        """The object's size in bytes (errors as `open`)."""
        return await self._call(key, self._reader.size, key)

    def read(self, key: str, piece_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The object under `key` in pieces of at most `piece_bytes`, for code that already
        runs in a worker thread (the zip export, `api.exports`). Blocks; raises like `open`
        when the first piece is asked for."""
        with _store_errors(key):
            response = self._reader.open(key)
        try:
            yield from response.stream(piece_bytes, decode_content=False)
        finally:
            response.close()
            response.release_conn()

    async def _call(self, key: str, function: Callable[..., T], *args: Any) -> T:
        with _store_errors(key):
            return await asyncio.get_running_loop().run_in_executor(self._executor, partial(function, *args))

    def ping(self) -> bool:
        """True when the bucket is reachable (blocks: for the readiness probe)."""
        return self._reader.ping()

    def close(self) -> None:
        self._reader.close()


@contextmanager
def _store_errors(key: str) -> Iterator[None]:
    """The reading module's and the store's failures as the api's errors."""
    try:
        yield
    except FrameGone:
        raise NotFound("the image is no longer stored") from None
    except S3Error as error:
        log.warning("object_read_failed", key=key, code=error.code)
        raise Unavailable("the image store failed to answer; try again") from None
    except TransportError as error:
        log.warning("object_store_unreachable", key=key, error=str(error))
        raise Unavailable("the image store is unreachable; try again") from None
    except KafkaError as error:  # a frame not sealed yet is read from Kafka
        log.warning("kafka_frame_read_failed", key=key, error=str(error))
        raise Unavailable("the image store is unreachable; try again") from None
