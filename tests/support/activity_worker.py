"""The activity worker's tests' side: camera sequences put on `sensr.frames` with synthetic
timestamps, the index the worker writes, and the records it publishes on `sensr.activity`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sensr.activity import ActivityRecord, EventRecord, decode_activity_record
from sensr.broker import ACTIVITY
from sensr.frames import FrameEvent, new_frame_id, now_us
from sensr.index import FrameIndex, FrameScore, StoredEvent
from tests.support.activity_frames import RATE
from tests.support.catalog_worker import Tail, produce
from workload.waiting import eventually

NEVER_OFFLINE = 10_000_000
"""offline_minutes for cameras whose test is not about presence (their timestamps are synthetic)."""


def camera_frames(camera: str, jpegs: Sequence[bytes], start_us: int | None = None) -> list[FrameEvent]:
    """The JPEGs as the camera's frames, `RATE` a second, the first at `start_us`
    (default: as many seconds ago as the sequence lasts)."""
    step = 1_000_000 // RATE
    start = now_us() - len(jpegs) * step if start_us is None else start_us
    return [FrameEvent(camera, data, new_frame_id(start + n * step), start + n * step, "http")
            for n, data in enumerate(jpegs)]


def send(bootstrap: str, frames: list[FrameEvent]) -> None:
    produce(bootstrap, frames)


@dataclass
class Scored:
    """What the worker recorded of one camera's frames, in the frames' order."""

    scores: list[FrameScore]
    events: list[StoredEvent]

    @property
    def moving(self) -> list[bool]:
        return [score.moving for score in self.scores]

    @property
    def scene_changes(self) -> int:
        return sum(score.scene_change for score in self.scores)


def scored(index: FrameIndex, frames: Sequence[FrameEvent], timeout: float = 120) -> Scored:
    """Wait until every one of the frames is scored; their scores and the camera's events."""
    camera = frames[0].camera
    ids = [frame.frame_id for frame in frames]

    def all_scored() -> dict[str, FrameScore] | None:
        found = index.scores(camera, ids)
        return found if len(found) == len(ids) else None

    found = eventually(all_scored, timeout, 0.25,
                       what=lambda: f"{len(index.scores(camera, ids))} of {len(ids)} frames of {camera} scored")
    events = index.events_page(camera, limit=1000, descending=False).events
    return Scored([found[i] for i in ids], events)


class ActivityTail:
    """The records on `sensr.activity` from the moment it was made, of some cameras."""

    def __init__(self, bootstrap: str) -> None:
        self._tail = Tail(bootstrap, ACTIVITY)

    def records(self, cameras: set[str], count: int = 10**9, timeout: float = 0.5) -> list[ActivityRecord]:
        """The records so far (reading for up to `timeout` seconds or until `count` came)."""
        raw = self._tail.collect({camera.encode() for camera in cameras}, count, timeout)
        return [decode_activity_record(r.key, r.value) for r in raw]

    def close(self) -> None:
        self._tail.close()


def event_records(records: list[ActivityRecord]) -> list[EventRecord]:
    return [record for record in records if isinstance(record, EventRecord)]
