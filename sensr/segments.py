"""The segment layout, shared by its writer (the catalog worker) and the one place that
rewrites segments (deleting single frames, `rewrite_without`).

A segment object holds one camera's frames: their thumbnails first, contiguously (so a
reader fetches a page of thumbnails with one ranged GET of that block), then their
originals. The index says where each frame lies (`sensr.index.FrameRecord`); the object
itself has no header.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from minio import Minio

from sensr.frames import now_us, timestamp_to_datetime
from sensr.index import FrameIndex, FrameRecord, Placement, Segment

SEGMENT_TYPE = "application/octet-stream"
MIN_PART_SIZE = 5 * 1024 * 1024  # the SDK's (and S3's) smallest part size


@dataclass(frozen=True, slots=True)
class Packable:
    """What a segment needs of a frame."""

    frame_id: str
    timestamp_us: int
    jpeg: bytes
    thumbnail: bytes


def segment_key(camera: str, first_us: int) -> str:
    """`<username>/segments/<YYYY>/<MM>/<DD>/<HH>/<first timestamp>-<random>.seg`: under the
    camera's prefix (a camera purge deletes it with the rest), unique per write."""
    when = timestamp_to_datetime(first_us)
    return f"{camera}/segments/{when:%Y/%m/%d/%H}/{when:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:16]}.seg"


def pack(frames: Sequence[Packable]) -> tuple[bytes, int, list[Placement]]:
    """A segment's body (thumbnails, then originals), the thumbnail block's length and each
    frame's placement."""
    thumbnails = sum(len(frame.thumbnail) for frame in frames)
    placements: list[Placement] = []
    thumbnail_at, original_at = 0, thumbnails
    for frame in frames:
        placements.append(Placement(frame.frame_id, original_at, thumbnail_at, len(frame.thumbnail)))
        thumbnail_at += len(frame.thumbnail)
        original_at += len(frame.jpeg)
    body = b"".join([*(frame.thumbnail for frame in frames), *(frame.jpeg for frame in frames)])
    return body, thumbnails, placements


def write_segment(client: Minio, bucket: str, index: FrameIndex, camera: str, frames: Sequence[Packable]) -> str:
    """Write `frames` as a new segment and point their rows at it: the segment's row
    (unsealed), then the object, then the rows repointed and the segment sealed in one
    transaction. A writer that dies midway leaves an unsealed row that the catalog
    worker's sweep removes with its object. Returns the key. Raises the SDK's and
    SQLAlchemy's errors."""
    body, thumbnails, placements = pack(frames)
    key = segment_key(camera, frames[0].timestamp_us)
    times = [frame.timestamp_us for frame in frames]
    index.begin_segment(Segment(key, camera, min(times), max(times), len(frames), len(body), False, now_us()))
    # One PUT whatever the size (the SDK would split a body over 5 MiB into a multipart upload: 4+ requests).
    client.put_object(bucket, key, io.BytesIO(body), len(body), content_type=SEGMENT_TYPE,
                      part_size=max(MIN_PART_SIZE, len(body)))
    index.seal(key, thumbnails, placements)
    return key


def by_segment(frames: Iterable[FrameRecord]) -> dict[str, set[str]]:
    """The ids of the frames that are in a sealed segment, by segment key."""
    found: dict[str, set[str]] = {}
    for frame in frames:
        if frame.segment_key is not None:
            found.setdefault(frame.segment_key, set()).add(frame.frame_id)
    return found


def rewrite_without(client: Minio, bucket: str, index: FrameIndex, segment: str, removed: set[str]) -> int:
    """Delete the frames `removed` from `segment`: the frames kept are written to a new
    segment (their rows repointed), then the old object is deleted, then the old
    segment's rows (the removed frames') and its own row. Objects first, rows after: a
    rewrite cut short leaves rows whose bytes are gone, and deleting them again finishes
    the job. Returns how many frame rows were removed."""
    rows = index.segment_frames(segment)
    kept = [row for row in rows if row.frame_id not in removed]
    if kept:
        old = _read(client, bucket, segment)
        write_segment(client, bucket, index, kept[0].camera, [_slice(old, row) for row in kept])
    client.remove_object(bucket, segment)
    return index.remove_segments([segment])


def _read(client: Minio, bucket: str, key: str) -> bytes:
    response = client.get_object(bucket, key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def _slice(body: bytes, row: FrameRecord) -> Packable:
    at, thumb_at, thumb_size = int(row.segment_offset or 0), int(row.thumbnail_offset or 0), int(row.thumbnail_size or 0)
    return Packable(row.frame_id, row.timestamp_us, body[at:at + row.size], body[thumb_at:thumb_at + thumb_size])
