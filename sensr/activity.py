"""The activity record on `sensr.activity`: the contract between the activity worker,
which scores every frame and groups moving frames into events, and its readers (the
notifier, the api's Server-Sent Events, outside subscribers; `docs/asyncapi.yaml`
describes it for them).

Key: the camera username (UTF-8), so one camera's records stay in order in one partition.
Value: a JSON object, no image bytes; no headers. Every record has a `type`, the camera,
and an `id` that is the same each time the same fact is published again (at-least-once
delivery after a restart or a rebalance), so readers deduplicate by `id`:

    {"v": 1, "type": "event.start", "id": "01J…:start", "camera": "cam28",
     "event": {"event_id": "01J…", "start_us": …, "end_us": …, "frame_count": 1,
               "moving_frames": 1, "peak_score": 4.2, "key_frame_id": "01J…"},
     "key_frame_location": {"partition": 3, "offset": 91207}}
    {"v": 1, "type": "event.update", "id": "01J…:update:17", …}   (17 = frame_count)
    {"v": 1, "type": "event.end", "id": "01J…:end", …}
    {"v": 1, "type": "camera.offline", "id": "<last frame id>:offline", "camera": "cam28",
     "last_frame_id": "01J…", "last_frame_us": …, "at_us": …}
    {"v": 1, "type": "camera.online", "id": "<frame id>:online", "camera": "cam28",
     "last_frame_id": "01J…", "last_frame_us": …, "at_us": …}

`key_frame_location` (an addition within version 1: readers must not require it) says
where the key frame's record is on `sensr.frames`, so a reader can fetch its bytes from
Kafka without waiting for the catalog worker to store it. It is absent when the worker
does not know it (an event taken over from the index after a restart or a rebalance,
whose key frame was scored by an earlier owner) and in records written before it existed;
readers then find the frame through the index.

An event's id is stable (see `activity_worker.events.event_id`). A silence is named by
the last frame before it, a return by the first frame after it, so "one offline alert per
silence and one online alert per return" is "one message per record id".
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass
from typing import Any

from sensr.topic_json import decode_versioned

ACTIVITY_SCHEMA_VERSION = 1


class ActivityRecordError(ValueError):
    """A record on `sensr.activity` that does not follow the activity-record contract."""


class Transition(enum.StrEnum):
    """What happened to an event."""

    START = "start"
    UPDATE = "update"
    END = "end"


class RecordType(enum.StrEnum):
    EVENT_START = "event.start"
    EVENT_UPDATE = "event.update"
    EVENT_END = "event.end"
    CAMERA_OFFLINE = "camera.offline"
    CAMERA_ONLINE = "camera.online"


@dataclass(frozen=True, slots=True)
class Event:
    """An event as far as it is known: from its first to its last moving frame so far.
    `frame_count` counts every frame of the camera in that span, moving or not (the
    frames an event view plays), `moving_frames` the moving ones; the key frame is the
    one with the highest score (the first of equals). Times are Sensr timestamps in µs."""

    event_id: str
    camera: str
    start_us: int
    end_us: int
    frame_count: int
    moving_frames: int
    peak_score: float
    key_frame_id: str


@dataclass(frozen=True, slots=True)
class FrameLocation:
    """Where a frame's record is on `sensr.frames`."""

    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event's start, update or end, with the event as it stands after it."""

    transition: Transition
    event: Event
    key_frame_location: FrameLocation | None = None
    """Where the event's key frame is on `sensr.frames`, when the worker knows it (not part
    of the event's identity nor of its row in the index)."""

    @property
    def type(self) -> RecordType:
        return RecordType(f"event.{self.transition}")

    @property
    def record_id(self) -> str:
        if self.transition is Transition.UPDATE:
            return f"{self.event.event_id}:update:{self.event.frame_count}"
        return f"{self.event.event_id}:{self.transition}"


@dataclass(frozen=True, slots=True)
class PresenceRecord:
    """A camera gone quiet (`online=False`: no frame since `last_frame_us`, noticed at
    `at_us`) or back (`online=True`: `last_frame_id` is the first frame after the silence)."""

    camera: str
    online: bool
    last_frame_id: str
    last_frame_us: int
    at_us: int

    @property
    def type(self) -> RecordType:
        return RecordType.CAMERA_ONLINE if self.online else RecordType.CAMERA_OFFLINE

    @property
    def record_id(self) -> str:
        return f"{self.last_frame_id}:{'online' if self.online else 'offline'}"


ActivityRecord = EventRecord | PresenceRecord


def activity_key(record: ActivityRecord) -> bytes:
    """The record key: the camera username."""
    return (record.event.camera if isinstance(record, EventRecord) else record.camera).encode()


def activity_value(record: ActivityRecord) -> bytes:
    """The JSON value of an activity record."""
    body: dict[str, Any] = {"v": ACTIVITY_SCHEMA_VERSION, "type": str(record.type), "id": record.record_id}
    if isinstance(record, EventRecord):
        event = asdict(record.event)
        body["camera"] = event.pop("camera")
        body["event"] = event
        if record.key_frame_location is not None:
            body["key_frame_location"] = asdict(record.key_frame_location)
    else:
        body.update(camera=record.camera, last_frame_id=record.last_frame_id,
                    last_frame_us=record.last_frame_us, at_us=record.at_us)
    return json.dumps(body, separators=(",", ":")).encode()


def decode_activity_record(key: bytes | None, value: bytes | None) -> ActivityRecord:
    """The record a consumed `sensr.activity` value holds; raises ActivityRecordError
    naming what is wrong."""
    body = decode_versioned(value, ACTIVITY_SCHEMA_VERSION, "activity record", ActivityRecordError)
    try:
        kind = RecordType(body["type"])
        if kind in (RecordType.CAMERA_OFFLINE, RecordType.CAMERA_ONLINE):
            return PresenceRecord(camera=str(body["camera"]), online=kind is RecordType.CAMERA_ONLINE,
                                  last_frame_id=str(body["last_frame_id"]),
                                  last_frame_us=int(body["last_frame_us"]), at_us=int(body["at_us"]))
        fields = body["event"]
        if not isinstance(fields, dict):
            raise TypeError("event is not an object")
        event = Event(camera=str(body["camera"]), **fields)
        return EventRecord(Transition(kind.value.removeprefix("event.")), event,
                           _location(body.get("key_frame_location")))
    except (KeyError, TypeError, ValueError) as error:
        raise ActivityRecordError(f"malformed activity record: {error!r}") from None


def _location(field: Any) -> FrameLocation | None:
    """The optional `key_frame_location` (raises TypeError or ValueError when malformed)."""
    if field is None:
        return None
    if not isinstance(field, dict):
        raise TypeError("key_frame_location is not an object")
    partition, offset = field["partition"], field["offset"]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (partition, offset)):
        raise ValueError(f"key_frame_location {field!r} is not a partition and an offset")
    return FrameLocation(partition, offset)
