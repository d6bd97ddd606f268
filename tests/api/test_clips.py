"""Clips through the api: asked for over the JSON API (202 at once), rendered by a real
clip_worker (Kafka, SeaweedFS, SQLite and PostgreSQL), followed on the camera's event
stream, served with range requests and as a named download, played in headless Chromium;
share links that allow clips; the daily time-lapse; clips gone with their camera."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from api.clips import last_ended_day
from launcher.service_stack import S3Endpoint
from sensr.frames import now_us
from sensr.settings import S3Settings
from sensr.storage import make_s3_client
from tests.support.api import (PASSWORD, ApiStack, Account, create_camera, seed_frames, sign_up, stack_env,
                               start_stack)
from tests.support.clips import START_US, probe
from tests.support.streams import sse_events
from tests.support.ui import Visitor
from workload.waiting import eventually

SECOND = 1_000_000
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def clip_stack(kafka_bootstrap: str, s3_endpoint: S3Endpoint, database_url: str,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    """The api and a clip worker, once per database kind; the clip sweep every second."""
    data_dir = tmp_path_factory.mktemp("clips")
    env = stack_env(kafka_bootstrap, s3_endpoint, database_url, data_dir, SENSR_CLIP_SWEEP_SECONDS="1")
    stack = start_stack(env, data_dir, clips=True)
    yield stack
    stack.stop()


def camera_with_frames(stack: ApiStack, account: Account, count: int = 300, start: int = START_US,
                       **fields: Any) -> dict[str, Any]:
    camera = create_camera(stack, account, **fields)
    seed_frames(stack, camera["username"], [start + n * SECOND for n in range(count)])
    return camera


def ask(stack: ApiStack, session: requests.Session, camera_id: str, **body: Any) -> dict[str, Any]:
    body = {"since": str(START_US / SECOND), "until": str(START_US / SECOND + 300), **body}
    answer = session.post(stack.api(f"/cameras/{camera_id}/clips"), json=body, timeout=30)
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"] == answer.json()["url"]
    return answer.json()


def until_final(stack: ApiStack, session: requests.Session, clip: dict[str, Any]) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        now = session.get(stack.url + clip["url"], timeout=30).json()
        return now if now["state"] in ("ready", "failed", "cancelled") else None
    return eventually(final, timeout=120, what=lambda: f"clip {clip['id']} to finish")


def test_a_clip_is_queued_at_once_rendered_and_served_with_ranges(clip_stack: ApiStack, tmp_path: Path) -> None:
    account = sign_up(clip_stack)
    camera = camera_with_frames(clip_stack, account, name="Front door")
    clip = ask(clip_stack, account.session, camera["id"], speed="timelapse", fps=30)
    assert clip["state"] == "queued"

    done = until_final(clip_stack, account.session, clip)
    assert (done["state"], done["frames_done"], done["percent"]) == ("ready", 300, 100.0)
    assert done["duration"] == pytest.approx(10.0, abs=0.05)
    listed = account.session.get(clip_stack.api(f"/cameras/{camera['id']}/clips"), timeout=30).json()["clips"]
    assert [c["id"] for c in listed] == [clip["id"]]

    whole = account.session.get(clip_stack.url + done["video_url"], timeout=30)
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "video/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes" and len(whole.content) == done["size"]
    (tmp_path / "clip.mp4").write_bytes(whole.content)
    info = probe(tmp_path / "clip.mp4")
    assert (info["codec"], info["pix_fmt"], info["frames"]) == ("h264", "yuv420p", 300)

    part = account.session.get(clip_stack.url + done["video_url"], headers={"Range": "bytes=100-1099"}, timeout=30)
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-1099/{done['size']}"
    assert part.content == whole.content[100:1100]
    tail = account.session.get(clip_stack.url + done["video_url"], headers={"Range": "bytes=-10"}, timeout=30)
    assert tail.content == whole.content[-10:]
    beyond = account.session.get(clip_stack.url + done["video_url"],
                                 headers={"Range": f"bytes={done['size']}-"}, timeout=30)
    assert beyond.status_code == 416

    download = subprocess.run(["curl", "-sS", "-OJ", "-H", f"Authorization: Bearer {account.token}",
                               clip_stack.url + done["download_url"]], cwd=tmp_path, check=True)
    assert download.returncode == 0
    named = tmp_path / "Front-door_2026-09-21T141320Z_2026-09-21T141820Z.mp4"
    assert named.read_bytes() == whole.content


def test_progress_and_the_outcome_come_on_the_camera_event_stream(clip_stack: ApiStack) -> None:
    account = sign_up(clip_stack)
    camera = camera_with_frames(clip_stack, account, count=200)
    lines: list[str] = []
    stream = subprocess.Popen(["curl", "-sN", "-H", f"Authorization: Bearer {account.token}",
                               clip_stack.api(f"/cameras/{camera['id']}/events")], stdout=subprocess.PIPE, text=True)
    reader = threading.Thread(target=lambda: lines.extend(iter(stream.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        eventually(lambda: any(line.startswith("retry:") for line in lines), timeout=30)
        clip = ask(clip_stack, account.session, camera["id"], speed="factor", factor=4)

        def clip_events() -> list[dict[str, Any]]:
            return [json.loads(line[len("data: "):]) for line in list(lines)
                    if line.startswith("data: ") and f'"id": "{clip["id"]}"' in line]
        eventually(lambda: any(event["state"] == "ready" for event in clip_events()), timeout=120)
        events = clip_events()
        assert any(event["state"] == "rendering" for event in events)
        assert events[-1]["state"] == "ready" and events[-1]["size"] > 0 and events[-1]["percent"] == 100.0
        assert events[-1]["duration"] == pytest.approx(199 / 4 + 1 / 30, abs=0.05)
    finally:
        stream.terminate()
        stream.wait()


def test_cancel_and_delete(clip_stack: ApiStack) -> None:
    account = sign_up(clip_stack)
    camera = camera_with_frames(clip_stack, account, count=20)
    clip = ask(clip_stack, account.session, camera["id"])
    until_final(clip_stack, account.session, clip)
    cancelled = account.session.post(clip_stack.url + clip["url"].replace(clip["id"], clip["id"] + "/cancel"),
                                     timeout=30)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "ready"  # finished: left as it is
    assert account.session.delete(clip_stack.url + clip["url"], timeout=30).status_code == 204
    assert account.session.get(clip_stack.url + clip["url"], timeout=30).status_code == 404
    assert account.session.get(clip_stack.url + clip["video_url"], timeout=30).status_code == 404


def test_a_share_link_that_allows_clips_makes_clips_of_its_own_camera_only(clip_stack: ApiStack) -> None:
    owner = sign_up(clip_stack)
    shared = camera_with_frames(clip_stack, owner, count=30)
    other = camera_with_frames(clip_stack, owner, count=30)
    with_clips = owner.session.post(clip_stack.api(f"/cameras/{shared['id']}/shares"), json={"allow_clips": True},
                                    timeout=30).json()
    without = owner.session.post(clip_stack.api(f"/cameras/{shared['id']}/shares"), json={}, timeout=30).json()
    assert with_clips["allow_clips"] is True and without["allow_clips"] is False
    holder = requests.Session()
    holder.headers["X-Sensr-Share"] = with_clips["token"]

    clip = ask(clip_stack, holder, shared["id"])
    assert "share=" in clip["video_url"]
    assert until_final(clip_stack, holder, clip)["state"] == "ready"
    assert requests.get(clip_stack.url + clip["video_url"], timeout=30).status_code == 200  # the link in the URL

    body = {"since": "0", "until": "60"}
    assert holder.post(clip_stack.api(f"/cameras/{other['id']}/clips"), json=body, timeout=30).status_code == 404
    plain = requests.Session()
    plain.headers["X-Sensr-Share"] = without["token"]
    assert plain.post(clip_stack.api(f"/cameras/{shared['id']}/clips"), json=body, timeout=30).status_code == 403
    assert plain.get(clip_stack.api(f"/cameras/{shared['id']}/clips"), timeout=30).status_code == 403
    assert requests.post(clip_stack.api(f"/cameras/{shared['id']}/clips"), json=body, timeout=30).status_code == 404


def test_the_daily_time_lapse_of_a_finished_day_is_made_on_its_own(clip_stack: ApiStack) -> None:
    zone = "Pacific/Auckland"
    day, since_us, _ = last_ended_day(now_us(), zone)
    account = sign_up(clip_stack)
    camera = camera_with_frames(clip_stack, account, count=120, start=since_us + 3600 * SECOND)
    patched = account.session.patch(clip_stack.api(f"/cameras/{camera['id']}"),
                                    json={"daily_timelapse": True, "time_zone": zone}, timeout=30)
    assert patched.status_code == 200 and patched.json()["daily_timelapse"] is True

    def daily() -> dict[str, Any] | None:
        clips = account.session.get(clip_stack.api(f"/cameras/{camera['id']}/clips"), timeout=30).json()["clips"]
        return next((c for c in clips if c["kind"] == "daily" and c["state"] == "ready"), None)
    made = eventually(daily, timeout=120)
    assert made["day"] == day and made["frames_done"] == 120 and made["timestamp"] is True
    assert datetime.fromisoformat(made["since"]).astimezone(ZoneInfo(zone)).time().hour == 0


def test_a_deleted_camera_takes_its_clips_with_it(clip_stack: ApiStack) -> None:
    account = sign_up(clip_stack)
    camera = camera_with_frames(clip_stack, account, count=10)
    clip = until_final(clip_stack, account.session, ask(clip_stack, account.session, camera["id"]))
    s3 = make_s3_client(S3Settings(s3_endpoint=clip_stack.env["SENSR_S3_ENDPOINT"],
                                   s3_access_key=clip_stack.env["SENSR_S3_ACCESS_KEY"],
                                   s3_secret_key=clip_stack.env["SENSR_S3_SECRET_KEY"]))
    bucket = clip_stack.env["SENSR_S3_BUCKET"]
    key = f"{camera['username']}/clips/{clip['id']}.mp4"
    assert s3.stat_object(bucket, key).size == clip["size"]

    assert account.session.delete(clip_stack.api(f"/cameras/{camera['id']}"), timeout=30).status_code == 204
    eventually(lambda: not [o for o in s3.list_objects(bucket, prefix=f"{camera['username']}/clips/", recursive=True)
                            if not o.is_dir], timeout=30)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")
def test_a_clip_plays_and_seeks_in_headless_chromium(clip_stack: ApiStack, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright
    owner = sign_up(clip_stack)
    camera = camera_with_frames(clip_stack, owner)
    share = owner.session.post(clip_stack.api(f"/cameras/{camera['id']}/shares"), json={"allow_clips": True},
                               timeout=30).json()
    holder = requests.Session()
    holder.headers["X-Sensr-Share"] = share["token"]
    clip = until_final(clip_stack, holder, ask(clip_stack, holder, camera["id"], speed="timelapse", fps=30))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu",
                                                                                 "--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page()
            page.goto(clip_stack.url + "/login")
            page.set_content(f'<video id="v" muted preload="auto" src="{clip_stack.url + clip["video_url"]}"></video>')
            page.wait_for_function("() => document.getElementById('v').readyState === 4", timeout=30_000)
            assert page.evaluate("() => document.getElementById('v').duration") == pytest.approx(10.0, abs=0.1)
            page.evaluate("() => document.getElementById('v').play()")
            page.wait_for_function("() => document.getElementById('v').currentTime > 0.5", timeout=30_000)
            page.evaluate("() => { const v = document.getElementById('v'); v.pause(); v.currentTime = v.duration / 2; }")
            page.wait_for_function("() => { const v = document.getElementById('v'); "
                                   "return !v.seeking && Math.abs(v.currentTime - v.duration / 2) < 0.2 "
                                   "&& v.readyState >= 2; }", timeout=30_000)
        finally:
            browser.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")
def test_the_web_ui_makes_a_clip_of_a_day_follows_it_and_plays_it(clip_stack: ApiStack) -> None:
    from playwright.sync_api import expect, sync_playwright
    account = sign_up(clip_stack)
    camera = camera_with_frames(clip_stack, account, count=120)
    day = datetime.fromtimestamp(START_US / SECOND, tz=UTC).date().isoformat()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{clip_stack.url}/login")
            page.get_by_label("E-mail address").fill(account.email)
            page.get_by_label("Password").fill("a long enough password")
            page.get_by_role("button", name="Log in").click()
            page.goto(f"{clip_stack.url}/cameras/{camera['id']}?day={day}")
            page.get_by_role("button", name="Make a clip of this day").click()
            expect(page).to_have_url(f"{clip_stack.url}/cameras/{camera['id']}/clips")
            video = page.locator("li.clip.state-ready video")
            expect(video).to_have_count(1, timeout=90_000)  # the page reloads when the progress stream says ready
            page.wait_for_function("() => document.querySelector('li.clip video').readyState >= 1", timeout=30_000)
            assert page.evaluate("() => document.querySelector('li.clip video').duration") == pytest.approx(4.0, abs=0.1)
        finally:
            browser.close()


def test_a_clip_of_an_event_covers_the_event_span(clip_stack: ApiStack) -> None:
    from sensr.activity import Event, EventRecord, Transition
    from sensr.index import FrameIndex
    account = sign_up(clip_stack)
    camera = camera_with_frames(clip_stack, account, count=60)
    event = Event("evt" + camera["id"], camera["username"], START_US + 10 * SECOND, START_US + 29 * SECOND, 20, 20,
                  0.9, "k")
    index = FrameIndex.open(clip_stack.env["SENSR_DATABASE_URL"])
    try:
        index.save_events([EventRecord(Transition.END, event)])
    finally:
        index.close()
    answer = account.session.post(clip_stack.api(f"/cameras/{camera['id']}/clips"),
                                  json={"event_id": event.event_id, "speed": "realtime"}, timeout=30)
    assert answer.status_code == 202, answer.text
    done = until_final(clip_stack, account.session, answer.json())
    assert (done["state"], done["frames_done"], done["event_id"]) == ("ready", 20, event.event_id)
    assert done["duration"] == pytest.approx(19 + 1 / 30, abs=0.05)
    missing = account.session.post(clip_stack.api(f"/cameras/{camera['id']}/clips"), json={"event_id": "nope"},
                                   timeout=30)
    assert missing.status_code == 404


def test_the_web_ui_s_clip_stream_starts_with_where_each_clip_stands(clip_stack: ApiStack) -> None:
    """A clip that ends between the clips page and its progress stream still reloads the
    page: the stream starts with every clip's state (app.js reloads for one it drew unfinished)."""
    account = sign_up(clip_stack)
    camera = camera_with_frames(clip_stack, account, count=30)
    done = until_final(clip_stack, account.session, ask(clip_stack, account.session, camera["id"], fps=30))
    browser = Visitor(clip_stack)
    assert browser.post("/login", {"email": account.email, "password": PASSWORD}).status_code == 302
    with browser.session.get(browser.url(f"/cameras/{camera['id']}/clips/events"), stream=True, timeout=30) as stream:
        first = next(sse_events(stream))
    assert first["event"] == "clip"
    now = json.loads(first["data"])
    assert (now["id"], now["state"], now["percent"], now["size"]) == (done["id"], "ready", 100.0, done["size"])
