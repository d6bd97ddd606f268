"""Deleting frames (api/frame_removal.py, DELETE routes of api/v1/frames.py, api/ui/deletions.py):
one frame or a time range, by the owner only; images go from the bucket, rows from the
index, and the calendar's counts follow."""

from __future__ import annotations

from urllib.parse import quote

import requests
from tests.support.api import ApiStack, create_camera, object_stored, seed_frames, sign_up
from tests.support.ui import Visitor, field
from tests.support.ui import create_camera as ui_create_camera
from tests.support.ui import sign_up as ui_sign_up

HOUR_US = 3_600_000_000
DAY_START_US = 1_795_996_800_000_000  # 2026-11-30T00:00:00Z


def calendar(stack: ApiStack, session: requests.Session, camera_id: str) -> dict[str, int]:
    answer = session.get(stack.api(f"/cameras/{camera_id}/calendar"),
                         params={"since": "2026-11-30", "until": "2026-12-01"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {hour["start"][11:13]: hour["count"] for hour in answer.json()["hours"]}


def test_the_owner_deletes_one_frame_and_a_range(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner, name="Porch")
    times = [DAY_START_US + 60_000_000 * n for n in range(3)] + \
            [DAY_START_US + HOUR_US + 60_000_000 * n for n in range(4)]
    seeded = [record for record, _ in seed_frames(api_stack, camera["username"], times)]
    assert calendar(api_stack, owner.session, camera["id"]) == {"00": 3, "01": 4}
    one = seeded[1]
    path = f"/cameras/{camera['id']}/frames/{quote(one.frame_id)}"

    stranger = sign_up(api_stack)
    assert stranger.session.delete(api_stack.api(path), timeout=30).status_code == 404
    share = owner.session.post(api_stack.api(f"/cameras/{camera['id']}/shares"), json={}, timeout=30).json()
    assert requests.delete(api_stack.api(path), params={"share": share["token"]}, timeout=30).status_code == 401

    assert owner.session.delete(api_stack.api(path), timeout=30).status_code == 204
    assert not object_stored(api_stack, one.object_key) and not object_stored(api_stack, one.thumbnail_key)
    assert object_stored(api_stack, seeded[0].object_key)
    assert owner.session.get(api_stack.api(path), timeout=30).status_code == 404
    assert owner.session.delete(api_stack.api(path), timeout=30).status_code == 404
    assert calendar(api_stack, owner.session, camera["id"]) == {"00": 2, "01": 4}

    frames = api_stack.api(f"/cameras/{camera['id']}/frames")
    for params in ({}, {"since": "2026-11-30T01:00:00Z"}, {"since": "2026-11-30T02:00:00Z",
                                                           "until": "2026-11-30T01:00:00Z"}):
        assert owner.session.delete(frames, params=params, timeout=30).status_code == 400, params
    hour = {"since": "2026-11-30T01:00:00Z", "until": "2026-11-30T02:00:00Z"}
    assert stranger.session.delete(frames, params=hour, timeout=30).status_code == 404
    answer = owner.session.delete(frames, params=hour, timeout=30)
    assert answer.status_code == 200 and answer.json() == {"deleted": 4}
    assert all(not object_stored(api_stack, record.object_key) for record in seeded[3:])
    assert calendar(api_stack, owner.session, camera["id"]) == {"00": 2}
    left = owner.session.get(frames, timeout=30).json()["frames"]
    assert [frame["id"] for frame in left] == [seeded[0].frame_id, seeded[2].frame_id]


def test_a_public_camera_is_readable_but_not_deletable_by_others(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner, name="Street", public=True)
    [(frame, _)] = seed_frames(api_stack, camera["username"], [DAY_START_US])
    visitor = sign_up(api_stack)
    path = api_stack.api(f"/cameras/{camera['id']}/frames/{quote(frame.frame_id)}")
    assert visitor.session.get(path, timeout=30).status_code == 200
    assert visitor.session.delete(path, timeout=30).status_code == 403
    assert object_stored(api_stack, frame.object_key)


def test_the_ui_deletes_a_frame_and_a_day_after_saying_how_many(api_stack: ApiStack) -> None:
    visitor, _ = ui_sign_up(api_stack)
    camera_id = ui_create_camera(visitor, "Shed")
    username = field(visitor.get(f"/cameras/{camera_id}/upload").text, "username")
    seeded = [record for record, _ in seed_frames(api_stack, username, [DAY_START_US + n * HOUR_US
                                                                        for n in range(5)])]
    viewer = visitor.get(f"/cameras/{camera_id}/frames/{quote(seeded[0].frame_id)}").text
    assert 'id="delete-frame"' in viewer
    answer = visitor.post(f"/cameras/{camera_id}/frames/{quote(seeded[0].frame_id)}/delete")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/cameras/{camera_id}/hours/2026-11-30T00?done=frame-deleted"
    assert "The frame was deleted." in visitor.get(answer.headers["Location"]).text
    assert not object_stored(api_stack, seeded[0].object_key)

    day = visitor.get(f"/cameras/{camera_id}", params={"day": "2026-11-30"}).text
    assert "Download this day (zip, 4 frames)" in day and 'id="delete-day"' in day
    confirm = visitor.get(f"/cameras/{camera_id}/delete-frames",
                          params={"since": "2026-11-30T00:00:00Z", "until": "2026-12-01T00:00:00Z"})
    assert confirm.status_code == 200 and "Delete 4 frames?" in confirm.text
    done = visitor.post(f"/cameras/{camera_id}/delete-frames",
                        {"since": "2026-11-30T00:00:00Z", "until": "2026-12-01T00:00:00Z"})
    assert done.status_code == 302 and done.headers["Location"].endswith("day=2026-11-30&done=frames-deleted")
    after = visitor.get(done.headers["Location"]).text
    assert "The frames were deleted." in after and "Download this day" not in after
    assert not any(object_stored(api_stack, record.object_key) for record in seeded)

    # Others: no button, and the actions answer 404 (or send a stranger to log in).
    other, _ = ui_sign_up(api_stack)
    assert other.post(f"/cameras/{camera_id}/delete-frames",
                      {"since": "2026-11-30", "until": "2026-12-01"}).status_code == 404
    anonymous = Visitor(api_stack)
    assert anonymous.get(f"/cameras/{camera_id}/delete-frames",
                         params={"since": "2026-11-30", "until": "2026-12-01"}).status_code == 302
