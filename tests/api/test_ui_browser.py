"""The web UI in a real browser: Debian's headless Chromium driven by Playwright, against
the api with the real ingest_http and catalog_worker (Kafka, SeaweedFS, SQLite).

A user signs up, creates a camera, reads HOST, USERNAME and PASSWORD off the page, and
uploads with the page's own copy-paste commands (the seed's curl -T and wget); the frame
shows up in the browser (list, calendar, hour, viewer); the live view shows a frame
uploaded while it is open; share links open the camera to a visitor; phone-sized
screens need no sideways scrolling; a script in a camera name never runs.

Screenshots of the main pages go to tests/artifacts/screenshots/.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from infra.process import free_port
from launcher.service_stack import start_group_at_end
from launcher.services import launch, service
from sensr.broker import ACTIVITY
from tests.support.alert_receivers import smtp_server
from tests.support.api import PASSWORD, ApiStack, seed_frames
from tests.support.browser import (CHROMIUM, PHONE, Browser, accessible, create_camera, fits_the_screen, image_loaded,
                                   reload_until, run_pasted, shot, sign_up)
from tests.support.jpegs import make_jpeg

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed "
                                                              "(/usr/bin/chromium); browsers are never downloaded")


@pytest.fixture(scope="module")
def database_url(sqlite_url: str) -> str:
    """The browser sees the same pages whatever the database: SQLite only."""
    return sqlite_url


# -- steps -------------------------------------------------------------------------------


# -- tests -------------------------------------------------------------------------------


def test_sign_up_create_upload_with_curl_and_browse(page: Page, edge_stack: ApiStack, browser: Browser,
                                                    tmp_path: Path) -> None:
    stack = edge_stack
    sign_up(page, stack)
    login = create_camera(page, stack, "Front-Door Camera")
    host, username, password = login["host"], login["username"], login["password"]
    assert host == "127.0.0.1" and username.startswith("cam") and len(password) == 24
    port = stack.env["SENSR_HTTP_PORT"]
    assert login["curl"] == (f'curl -T Rocketship.jpg -H "Content-Type: image/jpeg" '
                             f"http://{username}:{password}@{host}:{port}/photo/{username}")
    browser.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    page.locator('button[data-copy="cred-password"]').click()
    expect(page.locator('button[data-copy="cred-password"]')).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == password
    accessible(page)
    shot(page, "new-camera")

    first = run_pasted(login["curl"], tmp_path, make_jpeg(640, 480, content="gradient", seed=1))
    base = f"{stack.url}/cameras/{login['id']}"
    page.goto(base)
    reload_until(page, "img.latest-thumb")
    assert image_loaded(page, "img.latest-thumb")["width"] == 320  # the catalog worker's thumbnail
    # the page's own count (a frame stored between the page and its status stream is not
    # counted live: see the live counting in test_ui_status_browser.py)
    reload_until(page, "table.month a[data-count='1']")
    accessible(page)
    shot(page, "browse")

    page.goto(f"{stack.url}/cameras")
    image_loaded(page, f'li[data-camera-id="{login["id"]}"] img')
    expect(page.locator(f'li[data-camera-id="{login["id"]}"] .meta')).to_contain_text("1 frame")
    accessible(page)
    shot(page, "camera-list")

    page.goto(base)
    page.locator("a[data-hour]").first.click()
    expect(page.locator(f'a[data-frame-id="{first["frame_id"]}"]')).to_be_visible()
    image_loaded(page, "ul.grid img")
    accessible(page)
    shot(page, "hour")
    page.locator(f'a[data-frame-id="{first["frame_id"]}"]').click()
    assert image_loaded(page, "#frame-image") == {"width": 640, "height": 480}
    accessible(page)
    shot(page, "viewer")

    second = run_pasted(login["wget"], tmp_path, make_jpeg(480, 360, content="gradient", seed=2))
    reload_until(page, "#next-frame")
    page.keyboard.press("ArrowRight")  # the viewer's keyboard navigation
    expect(page).to_have_url(f"{base}/frames/{second['frame_id']}")
    assert image_loaded(page, "#frame-image") == {"width": 480, "height": 360}
    expect(page.locator("#previous-frame")).to_be_visible()

    page.goto(f"{base}/settings")
    page.get_by_label("Name", exact=True).fill("Front door (renamed)")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Front door (renamed)")
    accessible(page)
    shot(page, "settings")
    page.get_by_role("button", name="Make a new password").click()  # asks first (accepted)
    expect(page.get_by_text("A new upload password was made")).to_be_visible()
    assert page.locator('[data-field="password"]').inner_text().strip() != password
    assert any("new upload password" in message for message in browser.dialogs)

    page.goto(f"{base}/shares")
    page.get_by_label("Label (who is it for?)").fill("Neighbours")
    page.get_by_role("button", name="Create share link").click()
    link = page.locator("#share-link").inner_text().strip()
    assert link.startswith(f"{base}?share=shr_")
    accessible(page)
    shot(page, "shares")
    browser.context.clear_cookies()  # a visitor without an account, with only the link
    page.goto(link)
    expect(page.get_by_text("Shared with you")).to_be_visible()
    image_loaded(page, "img.latest-thumb")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    accessible(page)
    shot(page, "shared-view")


def test_live_view_shows_a_frame_uploaded_while_it_is_open(page: Page, edge_stack: ApiStack, tmp_path: Path) -> None:
    sign_up(page, edge_stack)
    login = create_camera(page, edge_stack, "Live camera")
    page.goto(f"{edge_stack.url}/cameras/{login['id']}/live", wait_until="domcontentloaded")  # the stream never ends
    expect(page.locator("#live-status")).to_have_attribute("data-state", "waiting")
    assert page.eval_on_selector("#live-image", "i => i.naturalWidth") == 0
    # The stream's first frame is whatever is uploaded once the viewer's feed is ready;
    # upload until one arrives (each try waits a moment for it).
    for attempt in range(20):
        run_pasted(login["curl"], tmp_path, make_jpeg(400, 300, content="gradient", seed=10 + attempt))
        try:
            page.wait_for_function("() => document.querySelector('#live-image').naturalWidth > 0", timeout=3_000)
            break
        except PlaywrightTimeout:  # not yet: upload again
            continue
    else:
        pytest.fail("no uploaded frame reached the live view")
    assert page.eval_on_selector("#live-image", "i => i.naturalWidth") == 400
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#live-status")).to_contain_text("Live · 400 × 300")
    accessible(page)
    shot(page, "live")


def test_pages_fit_a_phone_screen(page: Page, edge_stack: ApiStack, tmp_path: Path) -> None:
    sign_up(page, edge_stack)
    login = create_camera(page, edge_stack, "A camera with a rather long name for a small phone screen")
    run_pasted(login["curl"], tmp_path, make_jpeg(640, 480, content="gradient", seed=3))
    page.set_viewport_size(PHONE)
    base = f"{edge_stack.url}/cameras/{login['id']}"
    page.goto(base)
    reload_until(page, "img.latest-thumb")
    for path, name in (("/cameras", "phone-camera-list"), (f"/cameras/{login['id']}/upload", "phone-new-camera"),
                       (f"/cameras/{login['id']}", "phone-browse"), (f"/cameras/{login['id']}/settings", None),
                       (f"/cameras/{login['id']}/live", None)):
        page.goto(f"{edge_stack.url}{path}", wait_until="domcontentloaded")
        assert fits_the_screen(page), f"{path} scrolls sideways on a phone"
        if name:
            if path == "/cameras":
                image_loaded(page, "li.card img")
            shot(page, name)


def test_a_script_in_a_camera_name_never_runs(page: Page, edge_stack: ApiStack, browser: Browser) -> None:
    sign_up(page, edge_stack)
    seen = len(browser.dialogs)
    login = create_camera(page, edge_stack, "<script>alert(1)</script>")
    for path in ("/cameras", f"/cameras/{login['id']}", f"/cameras/{login['id']}/settings",
                 f"/cameras/{login['id']}/live"):
        page.goto(f"{edge_stack.url}{path}", wait_until="domcontentloaded")
        expect(page.get_by_text("<script>alert(1)</script>").first).to_be_visible()  # shown as text
    assert browser.dialogs[seen:] == []


def test_alert_settings_test_alert_and_delivery_log(page: Page, edge_stack: ApiStack, tmp_path: Path) -> None:
    """The owner adds an e-mail rule and a webhook rule on the Alerts tab, sends test
    alerts with the buttons, and reads the outcome (and the refused webhook's error) in
    the delivery log; a real notifier sends the e-mail to a real SMTP server."""
    with smtp_server() as (inbox, smtp_port):
        group = f"notifier-{uuid.uuid4().hex[:10]}"
        start_group_at_end(edge_stack.env["SENSR_KAFKA_BOOTSTRAP"], group, ACTIVITY)  # not other tests' records
        notifier = launch(service("notifier"), dict(
            edge_stack.env, SENSR_NOTIFIER_GROUP_ID=group, SENSR_SMTP_HOST="127.0.0.1", SENSR_SMTP_PORT=str(smtp_port), SENSR_SMTP_SECURITY="plain",
            SENSR_NOTIFIER_OPS_PORT=str(free_port()), SENSR_NOTIFIER_POLL_SECONDS="0.2"),
            tmp_path / "notifier.log", timeout=60)
        try:
            sign_up(page, edge_stack)
            login = create_camera(page, edge_stack, "Back yard")
            page.goto(f"{edge_stack.url}/cameras/{login['id']}")
            page.get_by_role("link", name="Alerts").click()
            expect(page.get_by_text("No alert rules yet")).to_be_visible()
            assert page.locator("input[name=time_zone]").input_value() != ""  # the browser's zone, filled in

            page.get_by_label("Address or URL").fill("owner@example.org")
            page.get_by_label("Motion ends (with a summary)").check()
            page.locator("input[name=quiet_start]").fill("22:00")
            page.locator("input[name=quiet_end]").fill("07:00")
            page.get_by_role("button", name="Add alert rule").click()
            expect(page.get_by_text("Alert rule added.")).to_be_visible()
            expect(page.get_by_role("cell", name="E-mail to owner@example.org")).to_be_visible()

            page.get_by_label("Webhook URL (signed, Standard Webhooks)").check()
            page.get_by_label("Address or URL").fill("http://169.254.169.254/latest/meta-data")
            page.get_by_role("button", name="Add alert rule").click()
            expect(page.locator("code.secret")).to_have_text(re.compile(r"^whsec_"))

            page.get_by_label("Address or URL").fill("not an address")
            page.get_by_role("button", name="Add alert rule").click()
            expect(page.get_by_role("alert")).to_contain_text("e-mail address")

            for row in page.locator("table.alert-rules tbody tr").all():
                row.get_by_role("button", name="Send test alert").click()
                expect(page.get_by_text("Test alert queued")).to_be_visible()
            reload_until(page, "table.deliveries tr[data-state=delivered]")
            reload_until(page, "table.deliveries tr[data-state=failed]")
            expect(page.locator("tr[data-state=failed] td.last-error")).to_contain_text("link-local")
            assert [m["Subject"] for m in inbox.messages] and "Back yard: test alert at" in str(inbox.messages[0]["Subject"])
            shot(page, "camera-alerts")
        finally:
            notifier.stop()


def test_local_time_follows_the_browser_and_the_account_page(page: Page, edge_stack: ApiStack) -> None:
    """The browser says it is in Berlin: days and hours follow, a day when clocks go back
    shows 25 hours; the account page picks another zone."""
    page.context.new_cdp_session(page).send("Emulation.setTimezoneOverride", {"timezoneId": "Europe/Berlin"})
    sign_up(page, edge_stack)
    login = create_camera(page, edge_stack, "Clock tower")
    fall_back = 1_792_879_200_000_000  # 2026-10-25 00:00 in Berlin (CEST); clocks go back at 03:00
    seed_frames(edge_stack, login["username"], [fall_back + n * 3_600_000_000 + 60_000_000 for n in range(25)])
    page.goto(f"{edge_stack.url}/cameras/{login['id']}?day=2026-10-25")
    expect(page.locator("footer")).to_contain_text("times are Europe/Berlin")  # app.js told the server, page redrawn
    expect(page.locator("#day-length")).to_have_text("This day has 25 hours: clocks went back (Europe/Berlin).")
    expect(page.locator("ol.hours li")).to_have_count(25)
    expect(page.get_by_text("02:00 UTC+01:00")).to_be_visible()
    shot(page, "local-time-dst-day")
    page.get_by_role("link", name="02:00 UTC+01:00").click()
    expect(page.locator(".hour-nav h2")).to_contain_text("02:00–03:00 CET")

    page.goto(f"{edge_stack.url}/account")
    expect(page.locator("#time-zone-select option").first).to_contain_text("Europe/Berlin")
    page.locator("#time-zone-select").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_text("Time zone saved.")).to_be_visible()
    expect(page.locator("footer")).to_contain_text("times are Asia/Tokyo")
    page.goto(f"{edge_stack.url}/cameras/{login['id']}?day=2026-10-25")
    expect(page.locator("ol.hours li")).to_have_count(24)  # Tokyo keeps its clocks
    expect(page.locator("#day-length")).to_have_count(0)


def test_the_account_page_in_a_browser(page: Page, edge_stack: ApiStack) -> None:
    """Change the password, sign out everywhere, then delete the account after reading what goes."""
    email = sign_up(page, edge_stack)
    login = create_camera(page, edge_stack, "Orchard")
    seed_frames(edge_stack, login["username"], [1_795_996_800_000_000 + n for n in range(2)])
    page.get_by_role("link", name=email).click()
    expect(page).to_have_url(f"{edge_stack.url}/account")
    expect(page.locator("#sessions tbody tr")).to_have_count(1)
    expect(page.get_by_text("(this browser)")).to_be_visible()
    shot(page, "account")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("a brand new password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()

    page.get_by_role("link", name="Delete account…").click()
    expect(page.locator("#what-goes")).to_contain_text("1 camera (“Orchard”)")
    expect(page.locator("#what-goes")).to_contain_text("2 frames")
    shot(page, "account-delete")
    page.get_by_label("Your password, to confirm").fill("a brand new password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account was deleted")).to_be_visible()
    page.goto(f"{edge_stack.url}/cameras/{login['id']}")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_sign_out_everywhere_in_a_browser(page: Page, edge_stack: ApiStack) -> None:
    sign_up(page, edge_stack)
    page.goto(f"{edge_stack.url}/account")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("You are signed out everywhere")).to_be_visible()
    page.goto(f"{edge_stack.url}/account")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount"))


def test_downloads_in_a_browser(page: Page, edge_stack: ApiStack) -> None:
    """The day's zip and one frame download as files, with the zip's size known up front
    (what lets the browser show progress)."""
    sign_up(page, edge_stack)
    login = create_camera(page, edge_stack, "Gate")
    seeded = seed_frames(edge_stack, login["username"], [1_795_996_800_000_000 + n * 60_000_000 for n in range(3)])
    page.goto(f"{edge_stack.url}/cameras/{login['id']}?day=2026-11-30")
    link = page.get_by_role("link", name="Download this day (zip, 3 frames)")
    with page.expect_download() as saving:
        link.click()
    download = saving.value
    assert download.suggested_filename == "Gate_2026-11-30T00-00-00.000000Z_2026-12-01T00-00-00.000000Z.zip"
    with zipfile.ZipFile(download.path()) as archive:
        assert [archive.read(name) for name in archive.namelist()] == [jpeg for _, jpeg in seeded]
    again = page.request.get(f"{edge_stack.url}{link.get_attribute('href')}")  # the browser's cookies
    assert int(again.headers["content-length"]) == Path(download.path()).stat().st_size
    page.goto(f"{edge_stack.url}/cameras/{login['id']}/frames/{seeded[0][0].frame_id}")
    with page.expect_download() as saving:
        page.locator("#download-frame").click()
    assert saving.value.suggested_filename == "Gate_2026-11-30T00-00-00.000000Z.jpg"
    assert Path(saving.value.path()).read_bytes() == seeded[0][1]
