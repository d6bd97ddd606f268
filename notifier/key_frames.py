"""A motion alert's key frame: the exact bytes stored for that frame of that camera.

The frame is found through the index (camera and frame id, so a rule can only ever
attach its own camera's frames) and read through the one frame-reading module,
`sensr.frame_reader.FrameReader`, whatever the layout (segment, Kafka, single object).
"""

from __future__ import annotations

from sensr.frame_reader import FrameGone, FrameReader
from sensr.index import FrameIndex


class KeyFrames:
    def __init__(self, index: FrameIndex, reader: FrameReader) -> None:
        self._index = index
        self._reader = reader

    def read(self, camera: str, frame_id: str) -> bytes | None:
        """The JPEG of `camera`'s frame `frame_id`, or None while the frame is not indexed
        (the catalog worker has not stored it yet) or no longer stored. Blocks; raises the
        stores' errors when a read fails."""
        frame = self._index.get(camera, frame_id)
        if frame is None:
            return None
        try:
            return self._reader.original(frame)
        except FrameGone:
            return None
