"""Activity in the JSON API, from index rows and `sensr.activity` records written as the
activity worker writes them: motion events by time with cursor paging, one event with its
frames, frames filtered by motion, scores in frame JSON, activity in the calendar, the
camera's activity settings (read, changed, validated, published on `sensr.cameras`),
who sees which events, and the relay of activity records into the camera's Server-Sent
Events. Once per database kind."""

from __future__ import annotations

import json
from dataclasses import replace

import requests

from sensr.activity import EventRecord, Transition
from sensr.frames import now_us
from sensr.index import HOUR_US, hour_start
from tests.support.streams import sse_events
from tests.support.activity_records import event_of, publish_activity, save_events, seed_activity
from tests.support.api import ApiStack, camera_record, create_camera, sign_up

SECOND = 1_000_000


def a_day_of_activity(stack: ApiStack, camera: dict) -> tuple[list, list[float], list]:
    """Ten frames a minute apart two hours ago: frames 2-4 and 7-8 moving, as two events
    (ids `<camera id>-early` and `<camera id>-late`: event ids are unique across cameras)."""
    username = camera["username"]
    start = hour_start(now_us()) - 2 * HOUR_US
    scores = [0.1, 0.3, 5.0, 12.5, 3.0, 0.2, 0.4, 8.0, 2.5, 0.0]
    seeded = seed_activity(stack, username, [start + n * 60 * SECOND for n in range(10)], scores)
    frames = [frame for frame, _ in seeded]
    events = [event_of(frames[2:5], scores[2:5], f"{camera['id']}-early"),
              event_of(frames[7:9], scores[7:9], f"{camera['id']}-late")]
    save_events(stack, events)
    return frames, scores, events


def test_events_newest_first_with_cursor_paging_and_by_range(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    frames, _, events = a_day_of_activity(api_stack, camera)
    url = api_stack.api(f"/cameras/{camera['id']}/motion-events")
    first = owner.session.get(url, params={"limit": 1}, timeout=30).json()
    early_id, late_id = (event.event_id for event in events)
    assert [event["id"] for event in first["events"]] == [late_id] and first["next"]
    second = owner.session.get(api_stack.url + first["next"], timeout=30).json()
    assert [event["id"] for event in second["events"]] == [early_id] and second["next"] is None
    oldest_first = owner.session.get(url, params={"order": "asc"}, timeout=30).json()["events"]
    assert [event["id"] for event in oldest_first] == [early_id, late_id]
    later = owner.session.get(url, params={"since": oldest_first[1]["start"]}, timeout=30).json()["events"]
    assert [event["id"] for event in later] == [late_id]
    early = oldest_first[0]
    assert (early["start_us"], early["end_us"], early["frame_count"], early["moving_frames"]) == \
        (frames[2].timestamp_us, frames[4].timestamp_us, 3, 3)
    assert early["peak_score"] == 12.5 and early["key_frame_id"] == frames[3].frame_id and early["ended"] is True
    assert owner.session.get(api_stack.url + early["key_thumbnail_url"], timeout=30).headers["Content-Type"] == \
        "image/jpeg"
    assert camera["username"] not in json.dumps(oldest_first)
    for bad in ({"cursor": "nonsense"}, {"order": "sideways"}, {"limit": 0}, {"since": "yesterday"}):
        answer = owner.session.get(url, params=bad, timeout=30)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_input", bad


def test_one_event_with_its_frames_and_their_scores(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    frames, scores, _ = a_day_of_activity(api_stack, camera)
    url = api_stack.api(f"/cameras/{camera['id']}/motion-events/{camera['id']}-early")
    detail = owner.session.get(url, timeout=30).json()
    assert detail["event"]["id"] == f"{camera['id']}-early" and detail["frames_next"] is None
    assert [(f["id"], f["score"], f["moving"]) for f in detail["frames"]] == \
        [(frame.frame_id, score, True) for frame, score in zip(frames[2:5], scores[2:5], strict=True)]
    paged = owner.session.get(url, params={"limit": 2}, timeout=30).json()
    assert [f["id"] for f in paged["frames"]] == [frames[2].frame_id, frames[3].frame_id]
    rest = owner.session.get(api_stack.url + paged["frames_next"], timeout=30).json()["frames"]
    assert [f["id"] for f in rest] == [frames[4].frame_id]
    missing = owner.session.get(api_stack.api(f"/cameras/{camera['id']}/motion-events/nope"), timeout=30)
    assert missing.status_code == 404 and missing.json()["message"] == "no such event"


def test_frames_filtered_by_motion_or_score_and_scored_in_their_json(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    frames, scores, _ = a_day_of_activity(api_stack, camera)
    url = api_stack.api(f"/cameras/{camera['id']}/frames")
    listed = owner.session.get(url, timeout=30).json()["frames"]
    assert [(f["id"], f["score"]) for f in listed] == [(f.frame_id, s) for f, s in zip(frames, scores, strict=True)]
    moving = owner.session.get(url, params={"moving": "true"}, timeout=30).json()["frames"]
    assert [f["id"] for f in moving] == [frames[n].frame_id for n in (2, 3, 4, 7, 8)]
    strong = owner.session.get(url, params={"min_score": 5, "order": "desc"}, timeout=30).json()["frames"]
    assert [f["id"] for f in strong] == [frames[n].frame_id for n in (7, 3, 2)]
    one = owner.session.get(f"{url}/{frames[3].frame_id}", timeout=30).json()
    assert (one["score"], one["moving"]) == (12.5, True)
    for bad in ({"moving": "yes"}, {"min_score": "lots"}, {"min_score": 101}, {"min_score": "nan"}):
        assert owner.session.get(url, params=bad, timeout=30).status_code == 400, bad


def test_calendar_counts_moving_frames_and_events_per_hour(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    frames, _, _ = a_day_of_activity(api_stack, camera)
    hours = owner.session.get(api_stack.api(f"/cameras/{camera['id']}/calendar"), timeout=30).json()["hours"]
    assert [(h["start_us"], h["count"], h["moving_frames"], h["events"]) for h in hours] == \
        [(hour_start(frames[0].timestamp_us), 10, 5, 2)]


def test_events_are_scoped_like_frames(api_stack: ApiStack) -> None:
    owner, stranger = sign_up(api_stack), sign_up(api_stack)
    private, public = create_camera(api_stack, owner), create_camera(api_stack, owner, public=True)
    sibling = create_camera(api_stack, owner)
    for camera in (private, public, sibling):
        a_day_of_activity(api_stack, camera)
    share = owner.session.post(api_stack.api(f"/cameras/{private['id']}/shares"), timeout=30).json()["token"]

    def status(camera: dict, session: requests.Session | None = None, **params: str) -> tuple[int, int]:
        getter = session.get if session else requests.get
        base = api_stack.api(f"/cameras/{camera['id']}/motion-events")
        return (getter(base, params=params, timeout=30).status_code,
                getter(f"{base}/{camera['id']}-early", params=params, timeout=30).status_code)

    assert status(private, owner.session) == (200, 200)
    assert status(private, stranger.session) == status(private) == (404, 404)
    assert status(private, share=share) == (200, 200)
    assert status(sibling, share=share) == (404, 404)  # a share link opens its own camera only
    foreign = api_stack.api(f"/cameras/{private['id']}/motion-events/{sibling['id']}-early")
    assert owner.session.get(foreign, timeout=30).status_code == 404  # another camera's event, even the owner's
    assert status(public) == status(public, stranger.session) == (200, 200)
    shared = requests.get(api_stack.api(f"/cameras/{private['id']}/motion-events"), params={"share": share},
                          timeout=30).json()["events"][0]
    assert shared["key_thumbnail_url"].endswith(f"?share={share}")
    assert requests.get(api_stack.url + shared["key_thumbnail_url"], timeout=30).status_code == 200


def test_activity_settings_are_read_changed_validated_and_published(api_stack: ApiStack, kafka_bootstrap: str) -> None:
    owner, stranger = sign_up(api_stack), sign_up(api_stack)
    camera = create_camera(api_stack, owner, public=True)
    assert (camera["sensitivity"], camera["ignore_zones"], camera["event_gap_seconds"], camera["keep_what_matters"],
            camera["unmoving_keep_hours"], camera["offline_minutes"]) == (5, [], 30.0, False, 24, 10)
    url = api_stack.api(f"/cameras/{camera['id']}")
    zones = [{"left": 0.0, "top": 0.5, "right": 0.25, "bottom": 1.0}]
    changed = owner.session.patch(url, json={"sensitivity": 8, "ignore_zones": zones, "event_gap_seconds": 45,
                                             "keep_what_matters": True, "unmoving_keep_hours": 12,
                                             "offline_minutes": 3}, timeout=30)
    assert changed.status_code == 200, changed.text
    again = owner.session.get(url, timeout=30).json()
    assert (again["sensitivity"], again["ignore_zones"], again["event_gap_seconds"], again["keep_what_matters"],
            again["unmoving_keep_hours"], again["offline_minutes"]) == (8, zones, 45.0, True, 12, 3)
    record = camera_record(kafka_bootstrap, camera["username"])
    assert record is not None
    assert (record.sensitivity, record.ignore_zones, record.event_gap_seconds, record.keep_what_matters,
            record.unmoving_keep_hours, record.offline_minutes) == (8, ((0.0, 0.5, 0.25, 1.0),), 45.0, True, 12, 3)
    assert not {"sensitivity", "ignore_zones"} & set(stranger.session.get(url, timeout=30).json())
    assert stranger.session.patch(url, json={"sensitivity": 2}, timeout=30).status_code == 403

    for body, says in (({"sensitivity": 11}, "sensitivity"), ({"sensitivity": 0}, "sensitivity"),
                       ({"sensitivity": "5"}, "sensitivity"), ({"sensitivity": None}, "sensitivity"),
                       ({"ignore_zones": [{"left": 0.5, "top": 0, "right": 0.2, "bottom": 1}]}, "left < right"),
                       ({"ignore_zones": [{"left": 0, "top": 0, "right": 1.5, "bottom": 1}]}, "ignore_zones.0.right"),
                       ({"ignore_zones": [{"left": 0, "top": 0, "right": 1}]}, "bottom"),
                       ({"ignore_zones": [zones[0]] * 17}, "ignore_zones"),
                       ({"event_gap_seconds": 0}, "event_gap_seconds"),
                       ({"keep_what_matters": "yes"}, "keep_what_matters"),
                       ({"unmoving_keep_hours": 0}, "unmoving_keep_hours"),
                       ({"offline_minutes": 100_000}, "offline_minutes")):
        refused = owner.session.patch(url, json=body, timeout=30)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["error"] == "invalid_input" and says in refused.json()["message"], refused.json()
    assert owner.session.get(url, timeout=30).json()["sensitivity"] == 8  # nothing changed


def test_the_event_stream_relays_activity_of_its_camera(api_stack: ApiStack, kafka_bootstrap: str) -> None:
    owner = sign_up(api_stack)
    camera, other = create_camera(api_stack, owner), create_camera(api_stack, owner)
    frames, scores, _ = a_day_of_activity(api_stack, camera)
    started = event_of(frames[2:3], scores[2:3], f"{camera['id']}-live")
    grown = event_of(frames[2:5], scores[2:5], f"{camera['id']}-live")
    elsewhere = replace(event_of(frames[2:3], scores[2:3], "evt-other"), camera=other["username"])
    url = api_stack.api(f"/cameras/{camera['id']}/events")
    with requests.get(url, headers=owner.session.headers, stream=True, timeout=30) as stream:
        assert stream.status_code == 200
        publish_activity(kafka_bootstrap, [EventRecord(Transition.START, elsewhere),
                                           EventRecord(Transition.START, started),
                                           EventRecord(Transition.END, grown)])
        received = sse_events(stream)
        messages = [next(received), next(received)]
    assert [(m["event"], m["id"]) for m in messages] == [("activity", f"{started.event_id}:start"),
                                                               ("activity", f"{started.event_id}:end")]
    start, end = (json.loads(m["data"]) for m in messages)
    assert (start["type"], start["event"]["frame_count"], start["event"]["ended"]) == ("event.start", 1, False)
    assert (end["type"], end["event"]["frame_count"], end["event"]["ended"]) == ("event.end", 3, True)
    assert end["event"]["camera_id"] == camera["id"] and camera["username"] not in json.dumps(end)
