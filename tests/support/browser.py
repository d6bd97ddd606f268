"""Support for the web UI's browser tests (no tests here): Debian's headless Chromium
driven by Playwright, the steps a user takes (sign up, create a camera, run a pasted
command), screenshots, and the accessibility check (axe-core, from the
axe-playwright-python package, which ships it).

The api itself comes from tests/support/api.py (`api_stack`, `edge_stack`).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Dialog, Page, expect, sync_playwright

from tests.support.api import PASSWORD, ApiStack
from tests.support.harness import eventually

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
# Scripts run in pages under the UI's Content-Security-Policy (no eval): pass functions, not expressions.
STORED_TIMEOUT = 60.0  # upload -> Kafka -> catalog_worker -> S3 + index: normally well under a second
SERIOUS = ("serious", "critical")


@dataclass
class Browser:
    context: BrowserContext
    dialogs: list[str] = field(default_factory=list)
    """Messages of the dialogs pages opened (confirm before rotating a password, ...), all accepted."""

    def accept(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept()


@contextmanager
def chromium(profile: Path, **options: Any) -> Iterator[Browser]:
    """Debian's Chromium with a fresh profile in `profile`; `options` go to the context
    (viewport, color_scheme, bypass_csp, ...). Dialogs are accepted and recorded."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, **options)
        context.set_default_timeout(30_000)
        expect.set_options(timeout=15_000)  # assertions too wait out a busy machine (Playwright's default: 5 s)
        opened = Browser(context)
        context.on("page", lambda page: page.on("dialog", opened.accept))
        try:
            yield opened
        finally:
            context.close()


def axe_findings(page: Page) -> list[dict[str, Any]]:
    """The serious and critical axe-core violations on the page as it is now (color
    contrast, names, roles, ...): each with its rule id, help text and offending targets.
    The page's context needs `bypass_csp` (axe is injected as a script)."""
    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [node["target"] for node in v["nodes"]][:5]}
            for v in results.response["violations"] if v["impact"] in SERIOUS]


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_up(page: Page, stack: ApiStack) -> str:
    email = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(f"{stack.url}/signup")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(f"{stack.url}/cameras?done=signed-up")
    expect(page.get_by_text("You have no cameras yet")).to_be_visible()
    return email


def create_camera(page: Page, stack: ApiStack, name: str) -> dict[str, str]:
    """Create a camera through the form; returns what the upload login page shows."""
    page.goto(f"{stack.url}/cameras")
    page.locator("main").get_by_role("link", name=re.compile(r"Create (new|your first) camera")).click()
    page.get_by_label("Camera name").fill(name)
    page.get_by_role("button", name="Create camera").click()
    expect(page.get_by_text("Camera created.")).to_be_visible()
    login = {key: page.locator(f'[data-field="{key}"]').inner_text().strip() for key in ("host", "username", "password")}
    login["id"] = page.url.split("/cameras/", 1)[1].split("/", 1)[0]
    for key in ("curl", "wget"):
        login[key] = page.locator(f"#cmd-{key}").inner_text().strip()
    return login


def run_pasted(command: str, folder: Path, jpeg: bytes) -> dict[str, object]:
    """Run a command copied off the page, in a folder where Rocketship.jpg is `jpeg`; the
    ingest edge's JSON answer."""
    (folder / "Rocketship.jpg").write_bytes(jpeg)
    done = subprocess.run(shlex.split(command), cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def reload_until(page: Page, selector: str, timeout: float = STORED_TIMEOUT) -> None:
    """Reload the page until `selector` is on it (a frame the catalog worker stores)."""
    def shown() -> bool:
        if page.locator(selector).count():
            return True
        page.reload()
        return False

    eventually(shown, timeout, 0.3, what=lambda: f"{selector} did not appear on {page.url}")


def image_loaded(page: Page, selector: str) -> dict[str, int]:
    page.wait_for_function("s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0 }",
                           arg=selector)
    return page.eval_on_selector(selector, "i => ({width: i.naturalWidth, height: i.naturalHeight})")


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def accessible(page: Page) -> None:
    """axe-core finds no violation of its rules at all (WCAG 2 A/AA, colour contrast
    included), stricter than `axe_findings`' serious and critical."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
