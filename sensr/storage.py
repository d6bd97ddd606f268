"""The S3 bucket: the client factory and the object keys of the design.

Only the `minio` SDK talks to the object store, so any S3 server (SeaweedFS here, MinIO,
Ceph, AWS) works by settings alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteError, DeleteObject

from sensr.frames import timestamp_to_datetime
from sensr.settings import S3Settings


def make_s3_client(s3: S3Settings, http_client: urllib3.PoolManager | None = None) -> Minio:
    """`http_client`: a connection pool of the caller's (e.g. sized for its writer threads);
    default: the SDK's own."""
    return Minio(s3.s3_endpoint, access_key=s3.s3_access_key, secret_key=s3.s3_secret_key,
                 secure=s3.s3_secure, region=s3.s3_region, http_client=http_client)


def ensure_bucket(client: Minio, bucket: str) -> None:
    """Create the bucket if it is missing (safe when several services race to do it)."""
    from minio.error import S3Error
    if client.bucket_exists(bucket):
        return
    try:
        client.make_bucket(bucket)
    except S3Error as error:
        if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def object_keys(camera: str, timestamp_us: int, frame_id: str) -> tuple[str, str]:
    """The original's and the thumbnail's keys:
    `<username>/<YYYY>/<MM>/<DD>/<HH>/<timestamp>-<frame id>.jpg` and `... .thumb.jpg`.
    Keyed by frame id, so a re-delivered frame overwrites the same objects."""
    when = timestamp_to_datetime(timestamp_us)
    stem = f"{camera}/{when:%Y/%m/%d/%H}/{when:%Y%m%dT%H%M%S%fZ}-{frame_id}"
    return f"{stem}.jpg", f"{stem}.thumb.jpg"


def remove_objects(client: Minio, bucket: str, keys: Sequence[str]) -> list[DeleteError]:
    """Delete `keys` (at most 1,000: S3's limit per request) in one multi-object delete;
    missing keys are fine. Returns the deletes the store refused. Raises the SDK's errors
    when the store cannot be reached."""
    return list(client.remove_objects(bucket, [DeleteObject(key) for key in keys]))
