"""Issue 15 in a real browser (Debian's headless Chromium, Playwright) against the api with
the real ingest_http and catalog_worker (Kafka, SeaweedFS, SQLite): camera status kept
live over Server-Sent Events (list, camera page, live wall), a live view that says when
the camera has gone quiet, full-screen live, and the upload page's sample JPEG (its
commands work as pasted). The timeline, the viewer and the accessibility check of every
page are in test_ui_timeline_browser.py.

Screenshots go to tests/artifacts/screenshots/ (names starting `issue15-`).
"""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, Route, expect

from tests.support.api import ApiStack
from tests.support.browser import (CHROMIUM, PHONE, axe_findings, create_camera, fits_the_screen,
                                   image_loaded, reload_until, run_pasted, shot, sign_up)
from tests.support.jpegs import make_jpeg
from workload.waiting import eventually

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed "
                                                              "(/usr/bin/chromium); browsers are never downloaded")
QUIET_WITHIN_MS = 5_000
STORED_MS = 120_000  # upload -> Kafka -> catalog_worker -> S3 + index: normally well under a second


@pytest.fixture(scope="module")
def database_url(sqlite_url: str) -> str:
    """The browser sees the same pages whatever the database: SQLite only."""
    return sqlite_url


def username_of(page: Page, stack: ApiStack, camera_id: str) -> str:
    page.goto(f"{stack.url}/cameras/{camera_id}/upload")
    return page.locator('[data-field="username"]').inner_text().strip()


def test_upload_page_offers_the_sample_jpeg_its_commands_upload(page: Page, edge_stack: ApiStack,
                                                                tmp_path: Path) -> None:
    sign_up(page, edge_stack)
    login = create_camera(page, edge_stack, "Sample camera")
    expect(page.get_by_text("an FTP re-upload of the same file name and the same bytes")).to_be_visible()
    sample = page.locator("#cmd-sample").inner_text().strip()
    href = page.locator("#sample-jpeg").get_attribute("href")
    assert href and requests.get(f"{edge_stack.url}{href}", timeout=30).content[:2] == b"\xff\xd8"
    shot(page, "issue15-upload-sample")
    # Pasted as they are, in an empty folder: the sample command, then the upload command.
    done = subprocess.run(shlex.split(sample), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    stored = subprocess.run(shlex.split(login["curl"]), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert stored.returncode == 0 and '"frame_id"' in stored.stdout, stored.stderr


def test_camera_status_follows_uploads_without_a_reload(page: Page, edge_stack: ApiStack, tmp_path: Path) -> None:
    sign_up(page, edge_stack)
    expect(page.get_by_role("link", name=re.compile("create", re.I))).to_have_count(1)  # one way to start, not three
    login = create_camera(page, edge_stack, "Porch")
    page.goto(f"{edge_stack.url}/cameras")
    status = page.locator(f'[data-status-camera="{login["id"]}"]')
    expect(status).to_have_attribute("data-state", "new")
    expect(status).to_contain_text("No frames yet")
    page.evaluate("() => { window.notReloaded = true; }")
    run_pasted(login["curl"], tmp_path, make_jpeg(800, 600, content="gradient", seed=21))
    expect(status).to_have_attribute("data-state", "online", timeout=STORED_MS)
    expect(status).to_contain_text(re.compile(r"last frame (just now|\d+ s ago|\d+ min ago)"))  # the upload time
    expect(status).to_contain_text("1 frame in the last hour")
    image_loaded(page, f'img[data-status-thumb="{login["id"]}"]')
    assert page.evaluate("() => window.notReloaded === true")
    shot(page, "issue15-camera-list-status")

    page.goto(f"{edge_stack.url}/cameras/{login['id']}")
    expect(page.locator(".latest [data-status-camera]")).to_contain_text("Online")
    before = page.locator("img.latest-thumb").get_attribute("src")
    run_pasted(login["curl"], tmp_path, make_jpeg(800, 600, content="gradient", seed=22))
    expect(page.locator(".latest [data-status-camera]")).to_contain_text("2 frames in the last hour", timeout=STORED_MS)
    expect(page.locator("img.latest-thumb")).not_to_have_attribute("src", before or "", timeout=STORED_MS)
    shot(page, "issue15-camera-page-status")

    # Status over the JSON API, too: the same facts.
    status_json = requests.get(f"{edge_stack.url}/cameras/{login['id']}/status.json", timeout=30,
                               cookies={c["name"]: c["value"] for c in page.context.cookies()}).json()
    assert status_json["state"] == "online" and status_json["frames_last_hour"] == 2
    assert status_json["offline_minutes"] == 10 and status_json["last_frame"]["width"] == 800


def test_live_wall_shows_every_camera_and_follows_them(page: Page, edge_stack: ApiStack, tmp_path: Path) -> None:
    sign_up(page, edge_stack)
    logins = [create_camera(page, edge_stack, name) for name in ("Gate", "Garden", "Garage")]
    run_pasted(logins[0]["curl"], tmp_path, make_jpeg(640, 480, content="gradient", seed=31))
    page.goto(f"{edge_stack.url}/live")
    expect(page.locator("li.tile")).to_have_count(3)
    expect(page.locator(f'li.tile[data-camera-id="{logins[0]["id"]}"] [data-status-camera]')).to_have_attribute(
        "data-state", "online", timeout=STORED_MS)  # stored before or after the page opened
    quiet = page.locator(f'li.tile[data-camera-id="{logins[2]["id"]}"] [data-status-camera]')
    expect(quiet).to_have_attribute("data-state", "new")
    run_pasted(logins[2]["curl"], tmp_path, make_jpeg(640, 480, content="gradient", seed=32))
    expect(quiet).to_have_attribute("data-state", "online", timeout=STORED_MS)
    image_loaded(page, f'img[data-status-thumb="{logins[2]["id"]}"]')
    boxes = [page.locator(f'li.tile[data-camera-id="{login["id"]}"]').bounding_box() for login in logins]
    assert all(box and box["y"] + box["height"] <= 900 + 400 for box in boxes)  # a grid, not one long column
    assert boxes[0]["y"] == boxes[1]["y"]  # type: ignore[index]
    shot(page, "issue15-live-wall")
    page.emulate_media(color_scheme="dark")
    shot(page, "issue15-live-wall-dark")
    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    shot(page, "issue15-live-wall-phone")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.locator(f'li.tile[data-camera-id="{logins[0]["id"]}"] a.tile-image').click()  # full-screen live
    expect(page.locator("#live-frame")).to_have_class(re.compile("fullscreen"))
    image_loaded(page, "#live-last")
    shot(page, "issue15-live-fullscreen")


def test_live_view_says_when_the_stream_stops(page: Page, edge_stack: ApiStack, tmp_path: Path) -> None:
    sign_up(page, edge_stack)
    login = create_camera(page, edge_stack, "Driveway")
    run_pasted(login["curl"], tmp_path, make_jpeg(640, 480, content="gradient", seed=41))
    page.goto(f"{edge_stack.url}/cameras/{login['id']}/live", wait_until="domcontentloaded")
    # A quiet camera shows its last frame, not an empty box, and says how old it is.
    expect(page.locator("#live-status")).to_have_attribute("data-state", "quiet", timeout=STORED_MS)
    assert image_loaded(page, "#live-last") == {"width": 640, "height": 480}
    expect(page.locator("#live-status")).to_contain_text("last frame")
    shot(page, "issue15-live-quiet-before")

    page.goto(f"{edge_stack.url}/cameras/{login['id']}/upload")
    stream_url = page.locator('[data-field="mjpeg-url"]').inner_text().strip()
    page.goto(f"{edge_stack.url}/cameras/{login['id']}/live", wait_until="domcontentloaded")
    ffmpeg = subprocess.Popen(["ffmpeg", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
                               "testsrc2=size=800x600:rate=4", "-q:v", "5", "-f", "mpjpeg", stream_url],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=30_000)
        expect(page.locator("#live-status")).to_contain_text("Live · 800 × 600")  # the size of what shows
        page.wait_for_function("() => document.querySelector('#live-image').naturalWidth === 800")
        shot(page, "issue15-live-streaming")
    finally:
        ffmpeg.send_signal(signal.SIGINT)
        ffmpeg.wait(timeout=30)
    stopped = time.monotonic()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "quiet", timeout=QUIET_WITHIN_MS)
    took = time.monotonic() - stopped
    expect(page.locator("#live-status")).to_contain_text(re.compile(r"last frame (just now|\d+ s ago)"))
    assert took < QUIET_WITHIN_MS / 1000, took
    print(f"live view said quiet {took:.2f} s after the stream stopped")
    shot(page, "issue15-live-quiet-after")


def test_a_frame_stored_before_the_page_s_stream_opens_is_counted_once_it_opens(page: Page, edge_stack: ApiStack,
                                                                              tmp_path: Path) -> None:
    sign_up(page, edge_stack)
    login = create_camera(page, edge_stack, "Porch")
    run_pasted(login["curl"], tmp_path, make_jpeg(320, 240, content="gradient", seed=41))
    base = f"{edge_stack.url}/cameras/{login['id']}"
    page.goto(base)
    reload_until(page, "a[data-day] .count")
    held: list[Route] = []

    def hold(route: Route) -> None:  # the page's status stream waits until it is let go
        held.append(route)

    page.route("**/events", hold)
    page.reload()
    day = page.locator("a[data-day]:has(.count)")
    expect(day.locator(".count")).to_have_text("1")
    run_pasted(login["curl"], tmp_path, make_jpeg(320, 240, content="gradient", seed=42))
    eventually(lambda: len(page.request.get(f"{base}/frames.json").json()["frames"]) == 2,  # stored, in no stream
               STORED_MS / 1000, what="the second frame stored")
    expect(day.locator(".count")).to_have_text("1")
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/events", hold)
    expect(day.locator(".count")).to_have_text("2")
    expect(page.locator("#month-total")).to_have_text("2 frames")


def test_the_camera_page_s_calendar_counts_stored_frames_without_a_reload(page: Page, edge_stack: ApiStack,
                                                                         tmp_path: Path) -> None:
    sign_up(page, edge_stack)
    login = create_camera(page, edge_stack, "Garden")
    run_pasted(login["curl"], tmp_path, make_jpeg(320, 240, content="gradient", seed=31))
    page.goto(f"{edge_stack.url}/cameras/{login['id']}")
    reload_until(page, "a[data-day] .count")  # stored before the page, or counted live once it is
    image_loaded(page, "img.latest-thumb")  # and a quiet camera's first frame replaces "No frames yet"
    expect(page.get_by_text("No frames yet.")).to_be_hidden()
    day = page.locator("a[data-day]:has(.count)")
    hour = page.locator("ol.hours li a[data-hour]")
    expect(day.locator(".count")).to_have_text("1")
    expect(hour.locator(".count")).to_have_text("1")
    page.evaluate("() => { window.notReloaded = true; }")
    run_pasted(login["curl"], tmp_path, make_jpeg(320, 240, content="gradient", seed=32))
    expect(day.locator(".count")).to_have_text("2", timeout=STORED_MS)
    expect(day).to_have_attribute("aria-label", re.compile(r": 2 frames$"))
    expect(hour.locator(".count")).to_have_text("2")
    expect(page.locator("#month-total")).to_have_text("2 frames")
    expect(page.locator("#day-total")).to_have_text("2 frames")
    assert page.evaluate("() => window.notReloaded === true")
    assert axe_findings(page) == []
    shot(page, "issue15b-calendar-live")
    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    assert axe_findings(page) == []
    shot(page, "issue15b-calendar-live-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
