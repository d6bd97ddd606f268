"""Motion activity in the web UI, in a real browser (Debian's headless Chromium through
Playwright) against the real api, with frames, scores and events written to the index as
the catalog and activity workers write them: the day strip shows activity per hour, the
events list shows key frames, the event view plays its frames, the sensitivity slider and
the ignore-zone editor save through the settings page and reach `sensr.cameras`. Each
page passes axe's accessibility rules (colour contrast included) and fits a phone screen.

Screenshots go to tests/artifacts/screenshots/ (activity-*.png).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from api.ui.calendar import hour_key
from sensr.frames import now_us
from sensr.index import HOUR_US, hour_start
from tests.support.browser import (CHROMIUM, PHONE, SCREENSHOTS, accessible, create_camera, fits_the_screen,
                                   image_loaded, shot, sign_up)
from tests.support.activity_records import event_of, save_events, seed_activity
from tests.support.api import ApiStack, camera_record

SECOND = 1_000_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed "
                                                              "(/usr/bin/chromium); browsers are never downloaded")


@pytest.fixture(scope="module")
def database_url(sqlite_url: str) -> str:
    """The browser sees the same pages whatever the database: SQLite only."""
    return sqlite_url


def seed_events(stack: ApiStack, username: str, size: tuple[int, int] = (320, 240)) -> tuple[list, list]:
    """Twelve frames ten seconds apart an hour ago; frames 2-6 and 9-10 moving, as two events."""
    start = hour_start(now_us()) - HOUR_US + 5 * 60 * SECOND
    scores = [0.1, 0.2, 3.5, 9.0, 14.0, 6.0, 2.5, 0.3, 0.2, 4.0, 7.5, 0.1]
    frames = [frame for frame, _ in seed_activity(stack, username, [start + n * 10 * SECOND for n in range(12)],
                                                  scores, size=size)]
    events = [event_of(frames[2:7], scores[2:7], f"{username}-a"), event_of(frames[9:11], scores[9:11], f"{username}-b")]
    save_events(stack, events)
    return frames, events


def test_day_strip_events_list_and_event_view(page: Page, api_stack: ApiStack) -> None:
    sign_up(page, api_stack)
    login = create_camera(page, api_stack, "Driveway")
    frames, events = seed_events(api_stack, login["username"])
    base = f"{api_stack.url}/cameras/{login['id']}"

    page.goto(base)
    busy = page.locator("ol.hours li[data-events='2']")
    expect(busy).to_have_count(1)
    assert busy.get_attribute("data-moving") == "7" and "activity-4" in (busy.get_attribute("class") or "")
    expect(busy.locator(".activity")).to_contain_text("2 motion events, 7 moving frames")
    accessible(page)
    shot(page, "activity-day-strip")

    page.get_by_role("link", name="2 motion events this day ›").click()
    expect(page.locator("ul.events li")).to_have_count(2)
    assert page.locator("ul.events li").evaluate_all("items => items.map(i => i.dataset.eventId)") == \
        [events[1].event_id, events[0].event_id]  # newest first
    image_loaded(page, f"li[data-event-id='{events[0].event_id}'] img")
    expect(page.locator(f"li[data-event-id='{events[0].event_id}']")).to_contain_text("5 frames · peak 14.0 %")
    accessible(page)
    shot(page, "activity-events")

    page.locator(f"li[data-event-id='{events[0].event_id}'] a").click()
    expect(page.get_by_role("heading", name="Event at")).to_be_visible()
    assert image_loaded(page, "#event-image") == {"width": 320, "height": 240}
    expect(page.locator("#event-player")).to_have_attribute("data-position", "2")  # the key frame, 14.0
    expect(page.locator("ul.strip li")).to_have_count(5)
    accessible(page)
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#event-player")).to_have_attribute("data-position", "4", timeout=10_000)
    expect(page.get_by_role("button", name="Play")).to_have_attribute("aria-pressed", "false")  # stopped at the end
    expect(page.locator("#event-time")).to_contain_text(page.locator("ul.strip li .time").last.inner_text()[:12])
    page.get_by_role("button", name="‹ Frame").click()
    expect(page.locator("#event-player")).to_have_attribute("data-position", "3")
    image_loaded(page, "#event-image")
    shot(page, "activity-event-view")

    page.set_viewport_size(PHONE)
    for path in (f"/cameras/{login['id']}/events", f"/cameras/{login['id']}/events/{events[0].event_id}"):
        page.goto(api_stack.url + path)
        assert fits_the_screen(page), f"{path} scrolls sideways on a phone"
    shot(page, "activity-phone-event-view")


def test_sensitivity_slider_and_ignore_zone_editor(page: Page, api_stack: ApiStack, kafka_bootstrap: str) -> None:
    sign_up(page, api_stack)
    login = create_camera(page, api_stack, "Garden")
    seed_events(api_stack, login["username"], size=(640, 480))
    page.goto(f"{api_stack.url}/cameras/{login['id']}/settings")
    expect(page.get_by_text("Higher numbers notice smaller changes")).to_be_visible()
    slider = page.locator("#sensitivity")
    expect(page.locator("#sensitivity-value")).to_have_text("5")
    slider.fill("8")
    expect(page.locator("#sensitivity-value")).to_have_text("8")

    image_loaded(page, "#zone-editor img")
    page.locator("#zone-editor").evaluate("editor => editor.scrollIntoView({block: 'center'})")  # the mouse works in the viewport
    frame = page.locator("#zone-editor").bounding_box()
    assert frame is not None and frame["width"] > 300
    page.mouse.move(frame["x"] + 0.1 * frame["width"], frame["y"] + 0.2 * frame["height"])
    page.mouse.down()
    page.mouse.move(frame["x"] + 0.3 * frame["width"], frame["y"] + 0.4 * frame["height"], steps=5)
    page.mouse.move(frame["x"] + 0.5 * frame["width"], frame["y"] + 0.6 * frame["height"], steps=5)
    page.mouse.up()
    expect(page.locator("#zone-list li")).to_have_count(1)
    page.mouse.move(frame["x"] + 0.7 * frame["width"], frame["y"] + 0.1 * frame["height"])
    page.mouse.down()
    page.mouse.move(frame["x"] + 0.9 * frame["width"], frame["y"] + 0.3 * frame["height"], steps=5)
    page.mouse.up()
    expect(page.locator("#zone-list li")).to_have_count(2)
    page.get_by_role("button", name="Remove zone 2").click()
    expect(page.locator("#zone-list li")).to_have_count(1)
    page.get_by_label("Keep what matters").check()
    page.get_by_label("Keep frames without motion for (hours)").fill("6")
    page.get_by_label("Camera counts as offline after (minutes without a frame)").fill("15")
    page.get_by_role("button", name="Save motion settings").click()

    expect(page.get_by_text("Motion settings saved.")).to_be_visible()
    expect(page.locator("#sensitivity-value")).to_have_text("8")
    expect(page.locator("#zone-editor .zone")).to_have_count(1)
    [zone] = json.loads(page.locator("#ignore-zones").input_value())
    assert [round(zone[edge], 2) for edge in ("left", "top", "right", "bottom")] == [0.1, 0.2, 0.5, 0.6]
    expect(page.locator("#zone-list li")).to_contain_text("Zone 1: from 10 % to 50 % across, 20 % to 60 % down")

    record = camera_record(kafka_bootstrap, login["username"])  # published before the page answered
    assert record is not None
    assert (record.sensitivity, record.keep_what_matters, record.unmoving_keep_hours, record.offline_minutes) == \
        (8, True, 6, 15)
    assert [round(edge, 2) for edge in record.ignore_zones[0]] == [0.1, 0.2, 0.5, 0.6]
    accessible(page)
    page.locator("#motion").screenshot(path=str(SCREENSHOTS / "activity-motion-settings.png"))

    gap = page.get_by_label("Event ends after this many quiet seconds")
    gap.fill("0")
    page.get_by_role("button", name="Save motion settings").click()
    assert gap.evaluate("input => input.validity.rangeUnderflow")  # the browser refuses it first
    page.locator("#motion-form").evaluate("form => { form.noValidate = true; }")  # and so does the server
    page.get_by_role("button", name="Save motion settings").click()
    expect(page.get_by_role("alert")).to_have_text("Event gap (seconds) must be a number of seconds from 1 to 3600")

    page.set_viewport_size(PHONE)
    page.goto(f"{api_stack.url}/cameras/{login['id']}/settings#motion")
    image_loaded(page, "#zone-editor img")
    assert fits_the_screen(page), "the settings page scrolls sideways on a phone"
    page.locator("#motion").screenshot(path=str(SCREENSHOTS / "activity-phone-motion.png"))


def test_camera_pages_pass_axe_at_desktop_and_phone_sizes(page: Page, api_stack: ApiStack) -> None:
    """Every page of a camera with activity, as its owner sees it (the pages the edge-stack
    tests reach only after a real upload included)."""
    sign_up(page, api_stack)
    login = create_camera(page, api_stack, "Porch")
    frames, events = seed_events(api_stack, login["username"])
    base = f"/cameras/{login['id']}"
    hour = f"{base}/hours/{hour_key(frames[0].timestamp_us)}"
    paths = [base, f"{base}/events", f"{base}/events/{events[0].event_id}", hour, f"{base}/frames/{frames[0].frame_id}",
             f"{base}/settings", f"{base}/shares", f"{base}/upload", "/cameras"]
    for size in (None, PHONE):
        if size:
            page.set_viewport_size(size)
        for path in paths:
            page.goto(api_stack.url + path)
            accessible(page)
            assert size is None or fits_the_screen(page), f"{path} scrolls sideways on a phone"
