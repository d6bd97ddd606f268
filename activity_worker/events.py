"""Events: a camera's consecutive moving frames, grouped until it has been quiet a while.

An event opens at a moving frame, takes in every later moving frame that comes less than
`gap_seconds` after the one before (by the frames' Sensr timestamps, never the wall clock,
so processing the same frames again, at any speed, gives the same events), and ends at the
first frame, or `expire()` call, that finds the camera quiet for `gap_seconds`. Frames
that are not moving (quiet, `warming_up` or `scene_change`) never open nor extend an
event: a scene change is one marked frame followed by a warm-up, not a storm of events.

The event id is derived from the camera and the id of its first moving frame, so
at-least-once delivery (the same frames processed again after a restart) gives the same
id, and it is a ULID whose time part is that frame's timestamp, so ids sort by start.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from ulid import ULID

from activity_worker.motion import MotionResult
from sensr.activity import Event, EventRecord, FrameLocation, Transition


@dataclass(frozen=True, slots=True)
class EventSettings:
    """A camera's event settings: the quiet seconds that end an event (default 30)."""

    gap_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.gap_seconds > 0:
            raise ValueError(f"gap_seconds {self.gap_seconds!r} must be positive")

    @property
    def gap_us(self) -> int:
        return round(self.gap_seconds * 1_000_000)


def event_id(camera: str, first_frame_id: str, first_timestamp_us: int) -> str:
    """The id of the event that opens at this frame: a ULID of the frame's time whose other
    80 bits are a hash of camera and frame id, so the same frame always gives the same id."""
    digest = hashlib.sha256(f"{camera}\0{first_frame_id}".encode()).digest()
    millis = first_timestamp_us // 1000
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + digest[:10]))


class EventTracker:
    """One camera's open event, kept in memory by whoever scores the camera's frames; feed
    it every frame in order. `settings` may be replaced at any time."""

    def __init__(self, camera: str, settings: EventSettings | None = None) -> None:
        self.camera = camera
        self.settings = settings or EventSettings()
        self._event: Event | None = None
        self._key_frame_location: FrameLocation | None = None
        self._frames_since_moving = 0  # frames after the event's last moving frame

    @property
    def open_event(self) -> Event | None:
        return self._event

    def observe(self, frame_id: str, timestamp_us: int, result: MotionResult,
                location: FrameLocation | None = None) -> list[EventRecord]:
        """Take in the camera's next frame and its motion result; return what changed:
        at most an END (the gap passed before this frame) followed by a START, or one
        UPDATE (the frame extends the open event). `location` is the frame's place on
        `sensr.frames` (None when replaying stored scores): the records carry the key
        frame's."""
        changes = self.expire(timestamp_us)
        event = self._event
        if not result.moving:
            if event is not None:
                self._frames_since_moving += 1
            return changes
        if event is None:
            self._event = Event(
                event_id=event_id(self.camera, frame_id, timestamp_us), camera=self.camera,
                start_us=timestamp_us, end_us=timestamp_us, frame_count=1, moving_frames=1,
                peak_score=result.score, key_frame_id=frame_id)
            self._key_frame_location = location
            self._frames_since_moving = 0
            return [*changes, EventRecord(Transition.START, self._event, location)]
        peak = result.score > event.peak_score
        self._event = replace(
            event, end_us=max(event.end_us, timestamp_us),
            frame_count=event.frame_count + self._frames_since_moving + 1,
            moving_frames=event.moving_frames + 1,
            peak_score=result.score if peak else event.peak_score,
            key_frame_id=frame_id if peak else event.key_frame_id)
        if peak:
            self._key_frame_location = location
        self._frames_since_moving = 0
        return [EventRecord(Transition.UPDATE, self._event, self._key_frame_location)]

    def expire(self, now_us: int) -> list[EventRecord]:
        """End the open event if the camera has been quiet for the gap by `now_us` (a Sensr
        timestamp: the next frame's, or the clock's when the camera sends nothing)."""
        event = self._event
        if event is None or now_us - event.end_us < self.settings.gap_us:
            return []
        self._event = None
        return [EventRecord(Transition.END, event, self._key_frame_location)]
