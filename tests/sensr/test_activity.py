"""The activity record contract (sensr/activity.py): what the activity worker writes,
the notifier and the api read back, with stable ids for deduplication."""

from __future__ import annotations

import json

import pytest

from sensr.activity import (
    ActivityRecordError, Event, EventRecord, PresenceRecord, RecordType, Transition, activity_key,
    activity_value, decode_activity_record)

EVENT = Event(event_id="01JEVENT", camera="cam28", start_us=10, end_us=20, frame_count=3,
              moving_frames=2, peak_score=4.5, key_frame_id="01JKEY")


@pytest.mark.parametrize("record", [
    EventRecord(Transition.START, EVENT),
    EventRecord(Transition.UPDATE, EVENT),
    EventRecord(Transition.END, EVENT),
    PresenceRecord(camera="cam28", online=False, last_frame_id="01JLAST", last_frame_us=5, at_us=600),
    PresenceRecord(camera="cam28", online=True, last_frame_id="01JBACK", last_frame_us=700, at_us=700),
])
def test_a_record_reads_back_as_written_keyed_by_camera(record: EventRecord | PresenceRecord) -> None:
    assert activity_key(record) == b"cam28"
    assert decode_activity_record(activity_key(record), activity_value(record)) == record
    body = json.loads(activity_value(record))
    assert body["type"] == str(record.type) and body["id"] == record.record_id and body["camera"] == "cam28"


def test_ids_name_the_fact_so_a_republished_record_has_the_same_id() -> None:
    assert EventRecord(Transition.START, EVENT).record_id == "01JEVENT:start"
    assert EventRecord(Transition.UPDATE, EVENT).record_id == "01JEVENT:update:3"
    assert EventRecord(Transition.END, EVENT).record_id == "01JEVENT:end"
    offline = PresenceRecord(camera="cam28", online=False, last_frame_id="01JLAST", last_frame_us=5, at_us=600)
    assert offline.record_id == "01JLAST:offline" and offline.type is RecordType.CAMERA_OFFLINE


@pytest.mark.parametrize("value", [
    None, b"not json", b"[]", b'{"v": 2, "type": "event.start"}', b'{"v": 1, "type": "nope"}',
    b'{"v": 1, "type": "event.start", "camera": "c", "event": {"event_id": "x"}}',
    b'{"v": 1, "type": "camera.offline", "camera": "c"}',
])
def test_a_malformed_record_is_refused_with_a_reason(value: bytes | None) -> None:
    with pytest.raises(ActivityRecordError):
        decode_activity_record(b"c", value)
