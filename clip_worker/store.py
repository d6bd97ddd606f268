"""Writing finished clips to the bucket (the clip worker's only writes there): one object
per job, under the key the job names, so a job rendered twice overwrites its own MP4."""

from __future__ import annotations

from pathlib import Path

from minio import Minio

from sensr.settings import S3Settings
from sensr.storage import make_s3_client

CONTENT_TYPE = "video/mp4"


class ClipStore:
    def __init__(self, client: Minio, bucket: str) -> None:
        self._client, self._bucket = client, bucket

    @classmethod
    def connect(cls, s3: S3Settings) -> ClipStore:
        return cls(make_s3_client(s3), s3.s3_bucket)

    def upload(self, key: str, path: Path) -> None:
        """Store the file at `path` under `key` (multipart for large files; blocks)."""
        self._client.fput_object(self._bucket, key, str(path), content_type=CONTENT_TYPE)

    def ping(self) -> bool:
        return self._client.bucket_exists(self._bucket)
