"""A motion alert's key frame: the exact bytes uploaded for that frame of that camera.

The activity record says where the key frame is on `sensr.frames`
(`key_frame_location`), and Kafka holds the frame durably from the moment its upload was
answered: the frame is read there, so an e-mail never waits for the catalog worker to
store it. A frame read there is attached only if it is the one the record names (its
frame id, and so its camera: frame ids are unique), so a rule can only ever attach its
own camera's frames. Where the record has no location (an event taken over by another
activity worker, a record older than the field) or Kafka no longer has the frame
(retention), it is found through the index (camera and frame id). Both reads go through
the one frame-reading module, `sensr.frame_reader.FrameReader`, whatever the layout.
"""

from __future__ import annotations

from notifier import metrics
from sensr.activity import FrameLocation
from sensr.frame_reader import FrameGone, FrameReader
from sensr.index import FrameIndex
from sensr.logs import get_logger

log = get_logger(__name__)


class KeyFrames:
    def __init__(self, index: FrameIndex, reader: FrameReader) -> None:
        self._index = index
        self._reader = reader

    def read(self, camera: str, frame_id: str, location: FrameLocation | None) -> bytes | None:
        """The JPEG of `camera`'s frame `frame_id`: from Kafka at `location`, else from the
        store; None while it is in neither (not stored yet, or removed). Blocks; raises
        kafka-python's `KafkaError` when the broker cannot answer in time, the SDK's
        errors when the store fails."""
        if location is not None:
            frame = self._from_kafka(frame_id, location)
            if frame is not None:
                metrics.KEY_FRAME_READS.labels("kafka").inc()
                return frame
        frame = self._from_store(camera, frame_id)
        metrics.KEY_FRAME_READS.labels("store" if frame is not None else "missing").inc()
        return frame

    def _from_kafka(self, frame_id: str, location: FrameLocation) -> bytes | None:
        try:
            found, frame = self._reader.uploaded(location.partition, location.offset)
        except FrameGone as gone:
            log.info("key_frame_gone_from_kafka", frame_id=frame_id, error=str(gone))
            return None
        if found != frame_id:
            metrics.KEY_FRAME_MISMATCHES.inc()
            log.warning("key_frame_location_mismatch", frame_id=frame_id, found=found,
                        partition=location.partition, offset=location.offset)
            return None
        return frame

    def _from_store(self, camera: str, frame_id: str) -> bytes | None:
        frame = self._index.get(camera, frame_id)
        if frame is None:
            return None
        try:
            return self._reader.original(frame)
        except FrameGone:
            return None
