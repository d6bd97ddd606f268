"""A motion alert's key frame: the exact bytes stored for that frame of that camera.

The frame is found through the index (camera and frame id, so a rule can only ever
attach its own camera's frames) and read from the bucket with the minio SDK.
"""

from __future__ import annotations

from minio import Minio

from sensr.index import FrameIndex


class KeyFrames:
    def __init__(self, index: FrameIndex, client: Minio, bucket: str) -> None:
        self._index = index
        self._client = client
        self._bucket = bucket

    def read(self, camera: str, frame_id: str) -> bytes | None:
        """The JPEG of `camera`'s frame `frame_id`, or None while the frame is not indexed
        (the catalog worker has not stored it yet, or it was removed). Blocks; raises the
        SDK's errors when the store fails."""
        frame = self._index.get(camera, frame_id)
        if frame is None:
            return None
        response = self._client.get_object(self._bucket, frame.object_key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()
