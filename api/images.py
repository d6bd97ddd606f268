"""Frame images (originals and thumbnails) read from the S3 bucket and streamed out.

The minio SDK blocks, so every call runs in the worker pool; the body is read in 64 KiB
pieces, one pool call each, so a large original never sits whole in memory and a slow
client holds no more than one piece. Frames never change once stored, which makes the
caching rules simple: the ETag is derived from the frame id alone (a revalidation costs
no S3 request) and responses may be cached for a year, `immutable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from concurrent.futures import Executor
from typing import Any

from minio import Minio
from minio.error import S3Error
from urllib3.exceptions import HTTPError as TransportError

from api.errors import NotFound, Unavailable
from sensr.logs import get_logger

log = get_logger(__name__)
CHUNK_BYTES = 64 * 1024
CACHE_FOREVER = "max-age=31536000, immutable"
_MISSING = frozenset({"NoSuchKey", "NoSuchBucket"})


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
    """Reads frames' objects (originals, thumbnails) for the api; the catalog worker's
    `ObjectWriter` writes them."""

    def __init__(self, client: Minio, bucket: str, executor: Executor) -> None:
        self._client = client
        self._bucket = bucket
        self._executor = executor

    async def open(self, key: str) -> StoredObject:
        """The object under `key`. Raises NotFound when it is gone (a frame removed by
        retention after it was listed) and Unavailable when the store does not answer."""
        response = await asyncio.get_running_loop().run_in_executor(self._executor, self._get, key)
        return StoredObject(response, self._executor)

    def read(self, key: str, piece_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The object under `key` in pieces of at most `piece_bytes`, for code that already
        runs in a worker thread (the zip export, `api.exports`). Blocks; raises like `open`
        when the first piece is asked for."""
        response = self._get(key)
        try:
            yield from response.stream(piece_bytes, decode_content=False)
        finally:
            response.close()
            response.release_conn()

    def _get(self, key: str) -> Any:
        """minio's response for `key` (blocks), its errors mapped to the api's."""
        try:
            return self._client.get_object(self._bucket, key)
        except S3Error as error:
            if error.code in _MISSING:
                raise NotFound("the image is no longer stored") from None
            log.warning("object_read_failed", key=key, code=error.code)
            raise Unavailable("the image store failed to answer; try again") from None
        except TransportError as error:
            log.warning("object_store_unreachable", key=key, error=str(error))
            raise Unavailable("the image store is unreachable; try again") from None

    def ping(self) -> bool:
        """True when the bucket is reachable (blocks: for the readiness probe)."""
        return self._client.bucket_exists(self._bucket)
