"""The activity record contract (sensr/activity.py): what the activity worker writes,
the notifier and the api read back, with stable ids for deduplication."""

from __future__ import annotations

import json

import pytest

from sensr.activity import (
    ActivityRecordError, Event, EventRecord, FrameLocation, PresenceRecord, RecordType, Transition, activity_key,
    activity_value, decode_activity_record)

EVENT = Event(event_id="01JEVENT", camera="cam28", start_us=10, end_us=20, frame_count=3,
              moving_frames=2, peak_score=4.5, key_frame_id="01JKEY")


@pytest.mark.parametrize("record", [
    EventRecord(Transition.START, EVENT),
    EventRecord(Transition.UPDATE, EVENT),
    EventRecord(Transition.END, EVENT),
    EventRecord(Transition.START, EVENT, FrameLocation(partition=3, offset=91207)),
    PresenceRecord(camera="cam28", online=False, last_frame_id="01JLAST", last_frame_us=5, at_us=600),
    PresenceRecord(camera="cam28", online=True, last_frame_id="01JBACK", last_frame_us=700, at_us=700),
])
def test_a_record_reads_back_as_written_keyed_by_camera(record: EventRecord | PresenceRecord) -> None:
    assert activity_key(record) == b"cam28"
    assert decode_activity_record(activity_key(record), activity_value(record)) == record
    body = json.loads(activity_value(record))
    assert body["type"] == str(record.type) and body["id"] == record.record_id and body["camera"] == "cam28"


def test_the_key_frame_location_is_written_only_when_known_and_old_records_still_read() -> None:
    located = EventRecord(Transition.START, EVENT, FrameLocation(partition=3, offset=0))
    assert json.loads(activity_value(located))["key_frame_location"] == {"partition": 3, "offset": 0}
    assert "key_frame_location" not in json.loads(activity_value(EventRecord(Transition.START, EVENT)))
    written_before = (b'{"v":1,"type":"event.start","id":"01JEVENT:start","camera":"cam28","event":{"event_id":'
                      b'"01JEVENT","start_us":10,"end_us":20,"frame_count":3,"moving_frames":2,"peak_score":4.5,'
                      b'"key_frame_id":"01JKEY"}}')
    assert decode_activity_record(b"cam28", written_before) == EventRecord(Transition.START, EVENT)


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
    *(b'{"v": 1, "type": "event.start", "camera": "c", "event": {"event_id": "e", "start_us": 1, "end_us": 1, '
      b'"frame_count": 1, "moving_frames": 1, "peak_score": 1.0, "key_frame_id": "k"}, "key_frame_location": '
      + location + b'}' for location in (b'[1, 2]', b'{"partition": 1}', b'{"partition": -1, "offset": 2}',
                                         b'{"partition": 1, "offset": "2"}')),
])
def test_a_malformed_record_is_refused_with_a_reason(value: bytes | None) -> None:
    with pytest.raises(ActivityRecordError):
        decode_activity_record(b"c", value)
