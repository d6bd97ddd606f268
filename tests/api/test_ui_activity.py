"""Motion activity in the web UI over HTTP, against the real api process (Kafka,
SeaweedFS, SQLite), with frames, scores and events written to the index as the workers
write them: who may see the events pages (owner, share link, public, nobody else), the
motion form (owner only, XSRF-protected, validated with clear messages, nothing changed on
error), and activity in the day strip. The browser's view: test_ui_activity_browser.py."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from api.ui.calendar import to_us
from tests.support.activity_records import event_of, save_events, seed_activity
from tests.support.api import ApiStack, camera_record
from tests.support.ui import Visitor, attribute_values, create_camera, field, sign_up

SECOND = 1_000_000


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The UI adds no queries of its own kind: SQLite only (the API tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'sensr.sqlite'}"


def camera_with_events(stack: ApiStack, visitor: Visitor, **fields: str) -> tuple[str, str, list]:
    """A camera (id, username) with two events on 2026-05-02 at 08:30 and 08:40."""
    camera_id = create_camera(visitor, "Yard", **fields)
    username = field(visitor.get(f"/cameras/{camera_id}/upload").text, "username")
    start = to_us(datetime(2026, 5, 2, 8, 30, tzinfo=UTC))
    times = [start + n * 60 * SECOND for n in range(12)]
    scores = [5.0, 6.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 0.0]
    frames = [frame for frame, _ in seed_activity(stack, username, times, scores)]
    events = [event_of(frames[0:2], scores[0:2], f"{camera_id}-a"), event_of(frames[10:11], scores[10:11], f"{camera_id}-b")]
    save_events(stack, events)
    return camera_id, username, events


def test_events_pages_are_seen_like_frames(api_stack: ApiStack) -> None:
    owner, _ = sign_up(api_stack)
    camera_id, _, events = camera_with_events(api_stack, owner)
    base = f"/cameras/{camera_id}"
    listing = owner.get(f"{base}/events?day=2026-05-02")
    assert listing.status_code == 200
    assert attribute_values(listing.text, "data-event-id") == [events[1].event_id, events[0].event_id]
    assert f'{base}/frames/{events[0].key_frame_id}/thumbnail' in listing.text
    detail = owner.get(f"{base}/events/{events[0].event_id}")
    shown = attribute_values(detail.text, "data-frame-id")
    assert detail.status_code == 200 and len(shown) == 2 and shown[1] == events[0].key_frame_id
    assert owner.get(f"{base}/events/nope").status_code == 404
    assert owner.get(f"{base}/events?day=2026-13-01").status_code == 400
    viewer = owner.get(f"{base}/frames/{events[0].key_frame_id}").text
    assert 'data-score="6.0">6.0 % of the picture changed (moving)' in viewer
    day = owner.get(f"{base}?day=2026-05-02").text
    assert 'data-moving="3" data-events="2"' in day and "2 motion events this day" in day

    created = owner.post(f"{base}/shares", {"label": "friend"}).text
    link = re.search(r'<code id="share-link">([^<]+)</code>', created)
    assert link, "no share link on the page"
    token = html.unescape(link[1]).split("?share=", 1)[1]
    shared = Visitor(api_stack)
    page = shared.get(f"{base}/events?share={token}")
    assert page.status_code == 200 and f"/events/{events[0].event_id}?share=" in page.text
    assert shared.get(f"{base}/events/{events[0].event_id}?share={token}").status_code == 200

    stranger, _ = sign_up(api_stack)
    for path in (f"{base}/events", f"{base}/events/{events[0].event_id}"):
        assert stranger.get(path).status_code == 404, path
        answer = Visitor(api_stack).get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next="), path
    sibling_id, _, sibling_events = camera_with_events(api_stack, owner)
    assert shared.get(f"/cameras/{sibling_id}/events?share={token}").status_code == 404  # its own camera only
    assert owner.get(f"{base}/events/{sibling_events[0].event_id}").status_code == 404  # not this camera's

    public_id, _, public_events = camera_with_events(api_stack, owner, public="on")
    assert Visitor(api_stack).get(f"/cameras/{public_id}/events/{public_events[0].event_id}").status_code == 200


def test_motion_form_is_the_owners_validated_and_published(api_stack: ApiStack, kafka_bootstrap: str) -> None:
    owner, _ = sign_up(api_stack)
    camera_id, username, _ = camera_with_events(api_stack, owner)
    motion = f"/cameras/{camera_id}/motion"
    form = {"sensitivity": "3", "ignore_zones": '[{"left": 0, "top": 0, "right": 0.5, "bottom": 0.25}]',
            "event_gap_seconds": "12.5", "keep_what_matters": "on", "unmoving_keep_hours": "48",
            "offline_minutes": "20"}
    stranger, _ = sign_up(api_stack)
    assert stranger.post(motion, form).status_code == 404
    assert owner.post(motion, form, xsrf=False).status_code == 403
    saved = owner.post(motion, form)
    assert saved.status_code == 302 and saved.headers["Location"] == f"/cameras/{camera_id}/settings?done=motion-saved#motion"
    record = camera_record(kafka_bootstrap, username)
    assert record is not None
    assert (record.sensitivity, record.ignore_zones, record.event_gap_seconds, record.keep_what_matters,
            record.unmoving_keep_hours, record.offline_minutes) == (3, ((0.0, 0.0, 0.5, 0.25),), 12.5, True, 48, 20)

    for change, says in (({"sensitivity": "11"}, "sensitivity must be a whole number from 1 to 10"),
                         ({"sensitivity": "high"}, "Sensitivity: enter a whole number"),
                         ({"ignore_zones": "[{"}, "Ignore zones: the drawn zones could not be read"),
                         ({"ignore_zones": '[{"left": 0.6, "top": 0, "right": 0.5, "bottom": 1}]'},
                          "ignore zone 1 must lie inside the frame"),
                         ({"offline_minutes": ""}, "Offline after: enter a whole number"),
                         ({"event_gap_seconds": "0"}, "Event gap (seconds) must be a number of seconds from 1 to 3600")):
        refused = owner.post(motion, {**form, **change})
        assert refused.status_code == 400 and says.lower() in html.unescape(refused.text).lower(), (change, says)
        assert "_" not in re.search(r'role="alert">([^<]*)<', refused.text)[1]  # no raw field names
    page = owner.get(f"/cameras/{camera_id}/settings").text
    assert 'id="sensitivity" name="sensitivity" min="1" max="10" step="1" value="3"' in page  # nothing changed
