"""A batch of `sensr.frames` records turned into scores, events and activity records.

Every camera is scored in the order of its frames (one partition holds all of a camera's
frames, and this replica handles a batch in offset order). The batch's effects are made
durable before its offsets are committed, in this order:

1. event rows (`FrameIndex.save_events`: a row only grows, so a replay changes nothing),
2. scores (`FrameIndex.add_scores`: a frame keeps its first score),
3. the records on `sensr.activity`, flushed and acknowledged.

Events before scores: a replica stopped between the two leaves event rows that include
frames without a score; the next owner does not take those frames for redelivered ones
(`camera.CameraActivity.resume`), scores them again, and its event grows to the same
figures. A replica stopped before step 3 leaves records unpublished; the next owner
publishes the latest record of each event it resumes (record ids make that harmless).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from activity_worker import metrics
from activity_worker.camera import CameraActivity
from sensr.activity import ActivityRecord, EventRecord, FrameLocation, activity_key, activity_value
from sensr.broker import ACTIVITY
from sensr.cameras import CameraTable
from sensr.frames import FrameEvent, now_us
from sensr.index import FrameIndex, FrameScore
from sensr.logs import get_logger

log = get_logger(__name__)
UNKNOWN_CAMERA_SYNC_SECONDS = 5.0
"""How long a frame of a camera missing from the camera table waits for the table to catch up."""


class ActivityProcessor:
    """Scores batches of frames and ticks the clock for the cameras this replica owns."""

    def __init__(self, table: CameraTable, index: FrameIndex, producer: Any, publish_timeout: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._table = table
        self._index = index
        self._producer = producer
        self._publish_timeout = publish_timeout
        self._clock = clock
        self._cameras: dict[str, CameraActivity] = {}

    def cameras(self) -> list[str]:
        """The cameras whose state this replica holds."""
        return list(self._cameras)

    def forget(self, cameras: Iterable[str] | None = None) -> None:
        """Drop the state of `cameras` (all when None): their partitions moved, or a batch
        failed half-way; the next frame of each takes the camera over again from the index."""
        if cameras is None:
            self._cameras.clear()
        for camera in cameras or ():
            self._cameras.pop(camera, None)

    def process(self, frames: Sequence[FrameEvent], locations: Sequence[FrameLocation]) -> None:
        """Score `frames` (in order; `locations` are theirs on `sensr.frames`, one each,
        for the records to name their key frames') and make every effect durable; raises
        the index's or Kafka's error when it could not (the batch is then to be redone)."""
        self._sync_unknown({frame.camera for frame in frames})
        scores: list[FrameScore] = []
        records: list[ActivityRecord] = []
        for frame, location in zip(frames, locations, strict=True):
            login = self._table.get(frame.camera)
            if login is None:
                log.warning("frame_of_unknown_camera", camera=frame.camera, frame_id=frame.frame_id)
                continue
            state = self._camera(frame.camera, records)
            state.apply(login)
            score, changes = state.take(frame, now_us(), location)
            if score is not None:
                scores.append(score)
            records.extend(changes)
        self._write(scores, records)

    def tick(self, owned: Iterable[str], caught_up: Callable[[str], bool],
             stream_now: Callable[[str], int | None]) -> None:
        """Let time pass for the cameras this replica owns (`owned`: taken over first if
        not held yet, so a camera that fell silent while no replica owned it is still
        announced offline); `caught_up(camera)` says whether its partition is read to its
        end, `stream_now(camera)` the Sensr time its partition has got to (`stream_clock`)."""
        records: list[ActivityRecord] = []
        now = now_us()
        for camera in {*owned, *self._cameras}:
            login = self._table.get(camera)
            if login is None:  # deleted: nothing more to say about it
                self._cameras.pop(camera, None)
                continue
            if camera not in self._cameras and not login.enabled:
                continue
            state = self._camera(camera, records)
            state.apply(login)
            records.extend(state.tick(now, caught_up(camera), stream_now(camera)))
        self._write([], records)

    def _camera(self, camera: str, records: list[ActivityRecord]) -> CameraActivity:
        """The camera's state, taking it over from the index first if this replica holds
        none (the records of its resumed events go to `records`)."""
        state = self._cameras.get(camera)
        if state is None:
            state, resumed = CameraActivity.resume(camera, self._table.get(camera), self._index, self._clock)
            if resumed:
                log.info("camera_resumed", camera=camera, events=[r.event.event_id for r in resumed])
            records.extend(resumed)
            self._cameras[camera] = state
        return state

    def _sync_unknown(self, cameras: set[str]) -> None:
        """A camera created a moment ago may not be in the table yet: wait for the table to
        catch up once per batch before its frames are taken for those of an unknown camera."""
        if any(self._table.get(camera) is None for camera in cameras):
            self._table.sync(UNKNOWN_CAMERA_SYNC_SECONDS)

    def _write(self, scores: list[FrameScore], records: list[ActivityRecord]) -> None:
        if not scores and not records:
            return
        self._index.save_events([record for record in records if isinstance(record, EventRecord)])
        self._index.add_scores(scores)
        futures = [self._producer.send(ACTIVITY, key=activity_key(record), value=activity_value(record))
                   for record in records]
        self._producer.flush(self._publish_timeout)
        for future in futures:
            future.get(timeout=self._publish_timeout)  # raises KafkaError when not acknowledged
        for record in records:
            metrics.RECORDS_PUBLISHED.labels(str(record.type)).inc()
        log.debug("batch_written", scores=len(scores), records=len(records))
