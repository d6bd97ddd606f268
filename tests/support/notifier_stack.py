"""What the notifier's service tests feed it: a camera's alert rules on
`sensr.alert-rules`, a key frame on `sensr.frames` (as an edge publishes it) or stored
(object and index row, as the catalog worker leaves them), activity records on
`sensr.activity`; and the notifier as a subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from minio import Minio

from infra.process import free_port
from sensr.activity import (ActivityRecord, Event, EventRecord, FrameLocation, PresenceRecord, Transition,
                            activity_key, activity_value)
from sensr.alert_rules import AlertRule, publish_rules
from sensr.broker import ACTIVITY, FRAMES
from sensr.frames import FrameEvent, new_frame_id, now_us
from sensr.index import FrameIndex, FrameRecord
from sensr.storage import ensure_bucket, object_keys
from tests.support.catalog_worker import Worker
from tests.support.kafka_tap import producer_for, register_camera

SECOND = 1_000_000


def set_rules(bootstrap: str, camera: str, rules: list[AlertRule], enabled: bool = True) -> None:
    """Publish the camera's login on sensr.cameras and its rules on sensr.alert-rules, as the api does."""
    register_camera(bootstrap, camera, "secret-password", enabled=enabled)
    producer = producer_for(bootstrap)
    try:
        publish_rules(producer, camera, rules)
    finally:
        producer.close()


def produce_activity(bootstrap: str, records: Sequence[ActivityRecord]) -> None:
    producer = producer_for(bootstrap)
    try:
        for record in records:
            producer.send(ACTIVITY, key=activity_key(record), value=activity_value(record))
        producer.flush(30)
    finally:
        producer.close()


def store_frame(index: FrameIndex, client: Minio, bucket: str, camera: str, jpeg: bytes,
                timestamp_us: int | None = None, frame_id: str | None = None) -> str:
    """Store `jpeg` as one of `camera`'s frames (`frame_id`, or a new id); return its frame id."""
    ts = timestamp_us or now_us()
    frame_id = frame_id or new_frame_id(ts)
    key, thumbnail = object_keys(camera, ts, frame_id)
    ensure_bucket(client, bucket)
    client.put_object(bucket, key, io.BytesIO(jpeg), len(jpeg), content_type="image/jpeg")
    index.add([FrameRecord(frame_id, camera, ts, len(jpeg), 64, 48, "http", key, thumbnail)])
    return frame_id


def publish_frame(bootstrap: str, camera: str, jpeg: bytes) -> tuple[FrameEvent, FrameLocation]:
    """Publish `jpeg` as one of `camera`'s frames on `sensr.frames`; the frame and where it landed."""
    frame = FrameEvent.new(camera, jpeg, "http")
    producer = producer_for(bootstrap)
    try:
        sent = producer.send(FRAMES, key=frame.key(), value=frame.jpeg, headers=frame.headers()).get(30)
    finally:
        producer.close()
    return frame, FrameLocation(sent.partition, sent.offset)


def event_start(camera: str, key_frame_id: str, start_us: int | None = None, event_id: str | None = None,
                location: FrameLocation | None = None) -> EventRecord:
    start = start_us or now_us()
    event = Event(event_id=event_id or new_frame_id(start), camera=camera, start_us=start, end_us=start,
                  frame_count=1, moving_frames=1, peak_score=4.2, key_frame_id=key_frame_id)
    return EventRecord(Transition.START, event, location)


def event_end(start: EventRecord, seconds: int = 42) -> EventRecord:
    e = start.event
    event = Event(e.event_id, e.camera, e.start_us, e.start_us + seconds * SECOND, 40, 30, 7.5, e.key_frame_id)
    return EventRecord(Transition.END, event)


def presence(camera: str, online: bool, last_frame_us: int | None = None) -> PresenceRecord:
    last = last_frame_us or now_us() - 600 * SECOND
    return PresenceRecord(camera=camera, online=online, last_frame_id=new_frame_id(last), last_frame_us=last,
                          at_us=now_us())


def start_notifier(env: dict[str, str], log_path: Path, **overrides: str) -> Worker:
    """`python -m notifier` with `env` (+ a free ops port), logging JSON to `log_path`."""
    port = free_port()
    full_env = {**os.environ, **env, "SENSR_NOTIFIER_OPS_PORT": str(port), "SENSR_LOG_FORMAT": "json", **overrides}
    with log_path.open("ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "notifier"], env=full_env,
                                   stdout=subprocess.DEVNULL, stderr=log)
    return Worker(process, port, log_path)
