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

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.support.api import ApiStack
from tests.support.browser import (CHROMIUM, PHONE, Browser, chromium, create_camera, fits_the_screen, image_loaded,
                                   reload_until, run_pasted, shot, sign_up)
from tests.support.jpegs import make_jpeg

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed "
                                                              "(/usr/bin/chromium); browsers are never downloaded")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The browser sees the same pages whatever the database: SQLite only."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'sensr.sqlite'}"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Debian's Chromium with a fresh profile."""
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as opened:
        yield opened


@pytest.fixture
def page(browser: Browser, edge_stack: ApiStack) -> Iterator[Page]:
    """A new tab, logged out (each test signs up its own user)."""
    browser.context.clear_cookies()
    tab = browser.context.new_page()
    yield tab
    tab.close()


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
    shot(page, "new-camera")

    first = run_pasted(login["curl"], tmp_path, make_jpeg(640, 480, content="gradient", seed=1))
    base = f"{stack.url}/cameras/{login['id']}"
    page.goto(base)
    reload_until(page, "img.latest-thumb")
    assert image_loaded(page, "img.latest-thumb")["width"] == 320  # the catalog worker's thumbnail
    expect(page.locator("table.month a[data-count='1']")).to_have_count(1)
    shot(page, "browse")

    page.goto(f"{stack.url}/cameras")
    image_loaded(page, f'li[data-camera-id="{login["id"]}"] img')
    expect(page.locator(f'li[data-camera-id="{login["id"]}"] .meta')).to_contain_text("1 frame")
    shot(page, "camera-list")

    page.goto(base)
    page.locator("a[data-hour]").first.click()
    expect(page.locator(f'a[data-frame-id="{first["frame_id"]}"]')).to_be_visible()
    image_loaded(page, "ul.grid img")
    shot(page, "hour")
    page.locator(f'a[data-frame-id="{first["frame_id"]}"]').click()
    assert image_loaded(page, "#frame-image") == {"width": 640, "height": 480}
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
    shot(page, "shares")
    browser.context.clear_cookies()  # a visitor without an account, with only the link
    page.goto(link)
    expect(page.get_by_text("Shared with you")).to_be_visible()
    image_loaded(page, "img.latest-thumb")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
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
