"""Deleting frames at their owner's request: one frame, or a camera's frames over a time
range.

Objects go first (original and thumbnail, or the rewritten segment), then the index rows, a page at a time, as in
the catalog worker's retention sweep and camera purge: a deletion cut short leaves rows
whose objects are gone (their images answer 404; deleting again finishes the job), never
objects that no row points to. The index keeps its per-hour counts and totals in the
same transaction as the rows, so the calendar follows at once. Methods block: call them
through `Services.run`.
"""

from __future__ import annotations

from collections.abc import Sequence

from minio import Minio
from minio.error import MinioException
from urllib3.exceptions import HTTPError as TransportError

from api.errors import Unavailable
from sensr.index import FrameIndex, FrameRecord
from sensr.logs import get_logger
from sensr.segments import by_segment, rewrite_without
from sensr.storage import remove_objects

log = get_logger(__name__)
PAGE_FRAMES = 500  # frames per round: 1,000 keys, S3's limit for one multi-object delete


class FrameRemover:
    def __init__(self, index: FrameIndex, client: Minio, bucket: str) -> None:
        self._index = index
        self._client = client
        self._bucket = bucket

    def remove(self, frames: Sequence[FrameRecord]) -> int:
        """Delete the frames' bytes, then their rows; returns how many rows went. Frames in
        segments: each segment concerned is rewritten without them (`sensr.segments`).
        Raises Unavailable (rows untouched) when the store refuses or does not answer."""
        removed = 0
        for segment, ids in sorted(by_segment(frames).items()):
            try:
                removed += rewrite_without(self._client, self._bucket, self._index, segment, ids)
            except (MinioException, TransportError) as error:
                log.warning("segment_rewrite_failed", segment=segment, error=str(error))
                raise Unavailable("the image store did not answer; not everything was deleted, try again") from None
        return removed + self._remove_single([frame for frame in frames if frame.segment_key is None])

    def _remove_single(self, frames: Sequence[FrameRecord]) -> int:
        """Frames of one object each (and frames not sealed yet: no object, their bytes
        are left out when their segment is sealed): objects, then rows."""
        for start in range(0, len(frames), PAGE_FRAMES):
            keys = [key for frame in frames[start:start + PAGE_FRAMES] for key in (frame.object_key,
                                                                                  frame.thumbnail_key) if key]
            if not keys:
                continue
            try:
                refused = remove_objects(self._client, self._bucket, keys)
            except (MinioException, TransportError) as error:
                log.warning("frame_delete_failed", error=str(error))
                raise Unavailable("the image store did not answer; nothing was deleted, try again") from None
            if refused:
                log.warning("frame_delete_refused", refused=len(refused), first=str(refused[0]))
                raise Unavailable("the image store refused to delete some images; try again") from None
        return self._index.remove(frames)

    def remove_range(self, camera: str, since_us: int | None, until_us: int | None) -> int:
        """Delete `camera`'s frames in [since_us, until_us) (None: open), a page at a time;
        returns how many rows went. Raises like `remove` (what was deleted stays deleted)."""
        removed = 0
        while frames := self._index.page(camera, since_us, until_us, PAGE_FRAMES).frames:
            removed += self.remove(frames)
        if removed:
            log.info("frames_deleted", camera=camera, frames=removed)
        return removed
