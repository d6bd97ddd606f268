"""The JSON API of issue 15, against the api (SeaweedFS; SQLite and PostgreSQL): a
camera's status, a span's density in buckets, the frame at an instant, the camera's own
clock beside Sensr's on every frame, the frames found moving per bucket, and HEAD answered like GET everywhere (not 405)."""

from __future__ import annotations

import requests

from sensr.index import FrameScore
from tests.support.activity_records import with_index
from tests.support.api import ApiStack, create_camera, seed_frames, sign_up

T0 = 1_773_482_400_000_000  # 2026-03-14 10:00 UTC
SECOND = 1_000_000


def test_status_timeline_and_frame_at(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    base = api_stack.api(f"/cameras/{camera['id']}")
    new = owner.session.get(f"{base}/status", timeout=30).json()
    assert new["state"] == "new" and new["last_frame"] is None and new["frames_last_hour"] == 0
    assert new["offline_minutes"] == 10

    times = [T0 + n * 20 * SECOND for n in range(9)] + [T0 + 3600 * SECOND]
    seeded = seed_frames(api_stack, camera["username"], times, camera_offset_us=-90 * SECOND)
    status = owner.session.get(f"{base}/status", timeout=30).json()
    assert status["state"] == "offline" and status["last_frame"]["id"] == seeded[-1][0].frame_id  # 2026: long ago
    assert status["last_frame_age_s"] > 3600 and status["frames_last_hour"] == 0

    day = owner.session.get(f"{base}/timeline", params={"since": "2026-03-14T10:00:00Z",
                                                       "until": "2026-03-14T12:00:00Z"}, timeout=30).json()
    assert day["step_s"] == 60 and day["total"] == 10
    assert day["buckets"] == [[0, 3, seeded[0][0].frame_id, times[0]], [1, 3, seeded[3][0].frame_id, times[3]],
                              [2, 3, seeded[6][0].frame_id, times[6]], [60, 1, seeded[9][0].frame_id, times[9]]]
    assert day["moving"] == []  # no motion scored yet
    with_index(api_stack, lambda index: index.add_scores(
        [FrameScore(record.frame_id, camera["username"], record.timestamp_us, 8.0, True) for record, _ in seeded[2:4]]))
    moving = owner.session.get(f"{base}/timeline", params={"since": "2026-03-14T10:00:00Z",
                                                          "until": "2026-03-14T12:00:00Z"}, timeout=30).json()
    assert moving["moving"] == [[0, 1], [1, 1]]  # frames 2 and 3: minutes 0 and 1, counted apart from density
    seconds = owner.session.get(f"{base}/timeline", params={"since": "2026-03-14T10:00:00Z", "step": "1",
                                                           "until": "2026-03-14T10:01:00Z"}, timeout=30).json()
    assert [bucket[0] for bucket in seconds["buckets"]] == [0, 20, 40]
    too_fine = owner.session.get(f"{base}/timeline", params={"since": "2026-03-14", "until": "2026-03-15",
                                                            "step": "1"}, timeout=30)
    assert too_fine.status_code == 400 and "4000 buckets" in too_fine.json()["message"]

    at = owner.session.get(f"{base}/timeline/frame", params={"at": "2026-03-14T10:00:30Z"}, timeout=30).json()
    assert at["id"] == seeded[1][0].frame_id  # the last frame at or before
    assert at["camera_time"] == "2026-03-14T09:58:50.000000" and at["camera_clock_offset_s"] == -90.0
    assert owner.session.get(f"{base}/timeline/frame", timeout=30).status_code == 400
    listed = owner.session.get(f"{base}/frames", params={"limit": "1"}, timeout=30).json()["frames"][0]
    assert listed["camera_time_us"] == times[0] - 90 * SECOND

    stranger = sign_up(api_stack)
    for path in ("/status", "/timeline", "/timeline/frame?at=1"):
        assert stranger.session.get(f"{base}{path}", timeout=30).status_code == 404, path


def test_head_answers_like_get(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    frame = seed_frames(api_stack, camera["username"], [T0])[0][0]
    base = f"/cameras/{camera['id']}"
    for path in ("/api/v1/openapi.json", f"/api/v1{base}", f"/api/v1{base}/status",
                 f"/api/v1{base}/frames/{frame.frame_id}/image", f"/api/v1{base}/events", f"/api/v1{base}/live.mjpg"):
        get = owner.session.get(f"{api_stack.url}{path}", timeout=30, stream=True)
        head = owner.session.head(f"{api_stack.url}{path}", timeout=30)
        get.close()
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["Content-Type"] == get.headers["Content-Type"], path
    for path in ("/", "/login", "/signup", "/healthz", "/readyz", "/metrics"):
        answer = requests.head(f"{api_stack.url}{path}", timeout=30, allow_redirects=False)
        expected = requests.get(f"{api_stack.url}{path}", timeout=30, allow_redirects=False).status_code
        assert answer.status_code == expected != 405 and answer.content == b"", path
    assert requests.head(api_stack.api("/users"), timeout=30).status_code == 405  # no GET there: no HEAD either
