"""The web UI over HTTP, against the real api process (Kafka, SeaweedFS, SQLite): pages
render, login sessions and their cookies, XSRF protection of every form (and none in the
way of the JSON API), escaping of user input, isolation between users, settings,
browsing, share links and public cameras. Plus the pure parts (calendar, upload
commands, redirects, cookie secret) without a server. Browser tests: test_ui_browser.py.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from api.cameras import Camera, upload_login
from api.errors import InvalidInput
from api.ui.accounts import safe_next
from api.ui.calendar import day_hours, month, parse_hour, parse_month, to_us
from api.ui.commands import upload_guide, without_credentials
from api.sessions import kept_secret
from infra.process import free_port
from sensr.settings import Settings
from tests.support.api import PASSWORD, ApiStack, camera_record, seed_frames, start_service
from tests.support.api import sign_up as api_sign_up
from tests.support.ui import Visitor, attribute_values, command, create_camera, field, sign_up

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The UI adds no queries of its own kind: SQLite only (the API tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'sensr.sqlite'}"


def utc_us(*fields: int) -> int:
    return to_us(datetime(*fields, tzinfo=UTC))


# -- pages, sessions, cookies ------------------------------------------------------------


def test_pages_render_and_ask_for_a_login(api_stack: ApiStack) -> None:
    anonymous = Visitor(api_stack)
    assert anonymous.get("/").headers["Location"] == "/login"
    to_login = anonymous.get("/cameras/new")
    assert to_login.status_code == 302 and to_login.headers["Location"] == "/login?next=%2Fcameras%2Fnew"
    for path in ("/login", "/signup"):
        page = anonymous.get(path)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
        assert 'name="_xsrf"' in page.text
        assert page.headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
    stylesheet = re.search(r'href="(/static/style\.css\?v=[^"]+)"', anonymous.get("/login").text)
    assert stylesheet and anonymous.get(stylesheet[1]).status_code == 200
    missing = anonymous.get("/no/such/page")
    assert missing.status_code == 404 and "There is no such page here." in missing.text
    assert missing.headers["Content-Type"].startswith("text/html")
    # The JSON API keeps its JSON 404s.
    assert anonymous.get("/api/v1/nothing").json()["error"] == "not_found"


def test_sign_up_log_in_and_out(api_stack: ApiStack) -> None:
    email = "Ada.Lovelace.UI@Example.com"
    visitor = Visitor(api_stack)
    xsrf_cookie = visitor.get("/signup").headers["Set-Cookie"]
    assert xsrf_cookie.startswith("_xsrf=") and "HttpOnly" in xsrf_cookie and "SameSite=Lax" in xsrf_cookie
    signed_up = visitor.post("/signup", {"email": email, "password": PASSWORD})
    assert signed_up.status_code == 302 and signed_up.headers["Location"] == "/cameras?done=signed-up"
    session_cookie = signed_up.headers["Set-Cookie"]
    assert session_cookie.startswith("sensr_session=")
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie and "Secure" not in session_cookie
    cameras = visitor.get(signed_up.headers["Location"])
    assert cameras.status_code == 200 and "ada.lovelace.ui@example.com" in cameras.text
    assert "You have no cameras yet" in cameras.text and "Welcome to Sensr" in cameras.text

    taken = Visitor(api_stack).post("/signup", {"email": email.upper(), "password": PASSWORD})
    assert taken.status_code == 409 and "exists already" in taken.text
    short = Visitor(api_stack).post("/signup", {"email": "short@example.com", "password": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.text

    cookie = visitor.session_cookie
    logged_out = visitor.post("/logout")
    assert logged_out.headers["Location"] == "/login?done=logged-out"
    assert visitor.get("/cameras").status_code == 302
    replayed = Visitor(api_stack)
    replayed.session.cookies.set("sensr_session", cookie)
    assert replayed.get("/cameras").status_code == 302  # the session's token was revoked

    wrong = visitor.post("/login", {"email": email, "password": PASSWORD + "!", "next": "/cameras"})
    assert wrong.status_code == 401 and "Wrong e-mail address or password." in wrong.text
    assert visitor.session_cookie is None
    login = visitor.post("/login", {"email": email, "password": PASSWORD, "next": "/cameras/new"})
    assert login.status_code == 302 and login.headers["Location"] == "/cameras/new"
    assert visitor.get("/cameras/new").status_code == 200
    assert visitor.get("/login?next=/cameras").headers["Location"] == "/cameras"  # logged in already
    elsewhere = Visitor(api_stack).post("/login", {"email": email, "password": PASSWORD, "next": "//evil.example/"})
    assert elsewhere.headers["Location"] == "/cameras"  # no open redirect


def test_forms_need_their_xsrf_token_and_the_json_api_does_not(api_stack: ApiStack) -> None:
    visitor, email = sign_up(api_stack)
    refused = visitor.post("/cameras/new", {"name": "Forged"}, xsrf=False)
    assert refused.status_code == 403 and "expired or was sent from another site" in refused.text
    other = Visitor(api_stack)
    foreign = visitor.post("/cameras/new", {"name": "Forged", "_xsrf": other.xsrf()}, xsrf=False)
    assert foreign.status_code == 403 and "expired or was sent from another site" in foreign.text
    for path in ("/logout", "/login", "/signup"):
        assert visitor.post(path, {"email": email, "password": PASSWORD}, xsrf=False).status_code == 403
    assert "You have no cameras yet" in visitor.get("/cameras").text  # nothing was made, still logged in
    camera_id = create_camera(visitor, "Porch")
    for path in (f"/cameras/{camera_id}/settings", f"/cameras/{camera_id}/password",
                 f"/cameras/{camera_id}/delete", f"/cameras/{camera_id}/shares"):
        assert visitor.post(path, {"name": "Forged"}, xsrf=False).status_code == 403, path
    assert visitor.get(f"/cameras/{camera_id}/settings").status_code == 200

    # The JSON API takes bearer tokens, not cookies: no XSRF token needed, even with the UI's cookies.
    account = api_sign_up(api_stack)
    account.session.cookies.update(visitor.session.cookies)
    made = account.session.post(api_stack.api("/cameras"), json={"name": "API camera"}, timeout=30)
    assert made.status_code == 201
    assert account.session.delete(api_stack.api(f"/cameras/{made.json()['id']}"), timeout=30).status_code == 204
    assert account.session.delete(api_stack.api("/tokens/current"), timeout=30).status_code == 204
    # ... and the UI's cookie opens nothing in the JSON API.
    cookie_only = requests.get(api_stack.api("/cameras"), cookies=visitor.session.cookies, timeout=30)
    assert cookie_only.status_code == 401


def test_a_camera_upload_login_cannot_log_in(api_stack: ApiStack) -> None:
    visitor, _ = sign_up(api_stack)
    page = visitor.get(f"/cameras/{create_camera(visitor)}/upload").text
    username, password = field(page, "username"), field(page, "password")
    camera = Visitor(api_stack)
    for email in (username, f"{username}@{field(page, 'host')}"):
        refused = camera.post("/login", {"email": email, "password": password, "next": "/cameras"})
        assert refused.status_code == 401 and camera.session_cookie is None


def test_cookie_secret_is_kept_in_the_data_folder(api_stack: ApiStack) -> None:
    secret = Path(api_stack.env["SENSR_DATA_DIR"]) / "api-cookie-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    visitor, _ = sign_up(api_stack)
    api = api_stack.processes["api"]
    api.stop()
    start_service(api_stack, "api", api.log_path.parent)
    assert visitor.get("/cameras").status_code == 200  # the session outlives a restart


def test_secure_cookies_when_served_over_https(api_stack: ApiStack, tmp_path: Path) -> None:
    """A second api on the same database, configured for HTTPS (behind a proxy) and with a
    cookie secret of its own: cookies are Secure and the data folder gets no secret file."""
    env = dict(api_stack.env, SENSR_SECURE_COOKIES="true", SENSR_COOKIE_SECRET="s" * 40,
               SENSR_DATA_DIR=str(tmp_path), SENSR_API_PORT=str(free_port()))
    secure = ApiStack(url=f"http://127.0.0.1:{env['SENSR_API_PORT']}", env=env)
    start_service(secure, "api", tmp_path)
    try:
        form = Visitor(secure).get("/login")
        xsrf_cookie = form.headers["Set-Cookie"]
        assert "_xsrf=" in xsrf_cookie and "Secure" in xsrf_cookie and "HttpOnly" in xsrf_cookie
        token = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
        assert token
        # requests keeps Secure cookies off plain HTTP, as a browser would: send them by hand.
        cookie = {"_xsrf": xsrf_cookie.split(";")[0].split("=", 1)[1]}
        answer = requests.post(f"{secure.url}/signup", data={"email": "secure@example.com", "password": PASSWORD,
                                                              "_xsrf": token[1]},
                               cookies=cookie, allow_redirects=False, timeout=30)
        assert answer.status_code == 302
        session = answer.headers["Set-Cookie"]
        assert session.startswith("sensr_session=")
        assert all(flag in session for flag in ("Secure", "HttpOnly", "SameSite=Lax"))
        assert not (tmp_path / "api-cookie-secret").exists()
    finally:
        secure.stop()


# -- cameras ---------------------------------------------------------------------------


def test_new_camera_page_shows_the_upload_login_and_commands(api_stack: ApiStack) -> None:
    visitor, email = sign_up(api_stack)
    camera_id = create_camera(visitor, "Front-Door Camera")
    page = visitor.get(f"/cameras/{camera_id}/upload?done=created")
    assert page.status_code == 200 and "Camera created." in page.text
    host, username, password = (field(page.text, name) for name in ("host", "username", "password"))
    # The same login as the JSON API gives the owner.
    token = requests.post(api_stack.api("/tokens"), json={"email": email, "password": PASSWORD}, timeout=30).json()
    as_json = requests.get(api_stack.api(f"/cameras/{camera_id}"), timeout=30,
                           headers={"Authorization": f"Bearer {token['token']}"}).json()
    assert (host, username, password) == (as_json["host"], as_json["username"], as_json["password"])
    http_port, ftp_port = api_stack.env["SENSR_HTTP_PORT"], api_stack.env["SENSR_FTP_PORT"]
    authority = f"{username}:{password}@{host}"
    assert command(page.text, "curl") == (f'curl -T Rocketship.jpg -H "Content-Type: image/jpeg" '
                                          f"http://{authority}:{http_port}/photo/{username}")
    assert command(page.text, "wget") == (
        f'wget --auth-no-challenge --user={username} --password={password} --post-file=Rocketship.jpg '
        f'--header "Content-Type: image/jpeg" -O - http://{host}:{http_port}/photo/{username}')
    assert command(page.text, "ffmpeg").endswith(f"-f mpjpeg http://{authority}:{http_port}/upload/{username}")
    assert command(page.text, "ffmpeg-test").startswith("ffmpeg -re -f lavfi -i testsrc2")
    assert command(page.text, "curl-ftp") == f"curl -T Rocketship.jpg ftp://{authority}:{ftp_port}/"
    assert field(page.text, "ftp-port") == ftp_port and "Passive (PASV)" in page.text
    assert field(page.text, "photo-url") == as_json["upload_urls"]["photo"]
    assert field(page.text, "mjpeg-url") == as_json["upload_urls"]["mjpeg"]
    assert page.text.count('class="copy"') >= 10
    listing = visitor.get("/cameras").text
    assert "Front-Door Camera" in listing and "No frames yet" in listing and username in listing


def test_camera_settings_rename_rotate_public_disable_delete(api_stack: ApiStack, kafka_bootstrap: str) -> None:
    visitor, _ = sign_up(api_stack)
    camera_id = create_camera(visitor, "Garage")
    settings_path = f"/cameras/{camera_id}/settings"
    before = visitor.get(settings_path).text
    username, old_password = field(before, "username"), field(before, "password")
    assert 'name="enabled" checked' in before and 'name="public" >' in before

    saved = visitor.post(settings_path, {"name": "  Garage   door ", "retention_days": "7", "public": "on"})
    assert saved.status_code == 302 and saved.headers["Location"] == f"{settings_path}?done=saved"
    page = visitor.get(saved.headers["Location"]).text
    assert "Settings saved." in page and 'value="Garage door"' in page and 'value="7"' in page
    assert 'name="public" checked' in page and 'name="enabled" >' in page  # unchecked box: uploads off
    assert f"/cameras/{camera_id}</code>" in page  # the public link
    record = camera_record(kafka_bootstrap, username)
    assert record is not None and not record.enabled and record.retention_days == 7

    for bad, message in (("many", "enter a number of days"), ("0", "between 1 and")):
        refused = visitor.post(settings_path, {"name": "Garage door", "retention_days": bad})
        assert refused.status_code == 400 and message in refused.text
    emptied = visitor.post(settings_path, {"name": "", "enabled": "on"})
    assert emptied.status_code == 400 and "Name must not be empty" in emptied.text  # errors start with a capital

    rotated = visitor.post(f"/cameras/{camera_id}/password")
    assert rotated.headers["Location"] == f"{settings_path}?done=password"
    page = visitor.get(rotated.headers["Location"]).text
    assert "A new upload password was made" in page
    assert field(page, "password") != old_password and field(page, "username") == username

    confirm = visitor.get(f"/cameras/{camera_id}/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text and username in confirm.text
    deleted = visitor.post(f"/cameras/{camera_id}/delete")
    assert deleted.headers["Location"] == "/cameras?done=deleted"
    assert "The camera was deleted." in visitor.get("/cameras?done=deleted").text
    assert visitor.get(f"/cameras/{camera_id}").status_code == 404
    assert camera_record(kafka_bootstrap, username) is None  # tombstone: the edges refuse it


def test_user_input_is_always_escaped(api_stack: ApiStack) -> None:
    visitor, _ = sign_up(api_stack, "<b>bold</b>@example.com")
    camera_id = create_camera(visitor, SCRIPT)
    label = '"><img src=x onerror=alert(2)>'
    assert visitor.post(f"/cameras/{camera_id}/shares", {"label": label}).status_code == 200
    seed_frames(api_stack, field(visitor.get(f"/cameras/{camera_id}/upload").text, "username"),
                [utc_us(2026, 5, 1, 12)])
    paths = ["/cameras", f"/cameras/{camera_id}", f"/cameras/{camera_id}/upload", f"/cameras/{camera_id}/settings",
             f"/cameras/{camera_id}/delete", f"/cameras/{camera_id}/shares", f"/cameras/{camera_id}/live",
             f"/cameras/{camera_id}/hours/2026-05-01T12"]
    for path in paths:
        page = visitor.get(path)
        assert page.status_code == 200, path
        assert SCRIPT not in page.text and "<b>bold</b>" not in page.text and "<img src=x" not in page.text, path
        assert ESCAPED_SCRIPT in page.text, path
    login = Visitor(api_stack).get(f"/login?next=/{SCRIPT}").text
    assert SCRIPT not in login and f'value="/{ESCAPED_SCRIPT}"' in login
    assert "&lt;b&gt;bold&lt;/b&gt;@example.com" in visitor.get("/cameras").text
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in visitor.get(f"/cameras/{camera_id}/shares").text
    # Input sent back in a form after an error is escaped too.
    refused = visitor.post("/cameras/new", {"name": SCRIPT + "x" * 100})
    assert refused.status_code == 400 and SCRIPT not in refused.text and ESCAPED_SCRIPT in refused.text


def test_other_users_get_404_for_every_page_of_a_private_camera(api_stack: ApiStack) -> None:
    owner, _ = sign_up(api_stack)
    camera_id = create_camera(owner, "Owner's camera")
    page = owner.get(f"/cameras/{camera_id}/upload").text
    username, password = field(page, "username"), field(page, "password")
    frame = seed_frames(api_stack, username, [utc_us(2026, 5, 2, 8, 30)])[0][0]
    owner.post(f"/cameras/{camera_id}/shares", {"label": "friend"})
    share_id = attribute_values(owner.get(f"/cameras/{camera_id}/shares").text, "data-share-id")[0]
    base = f"/cameras/{camera_id}"
    pages = [base, f"{base}/upload", f"{base}/settings", f"{base}/delete", f"{base}/shares", f"{base}/live",
             f"{base}/hours/2026-05-02T08", f"{base}/frames/{frame.frame_id}"]
    bytes_ = [f"{base}/live.mjpg", f"{base}/frames/{frame.frame_id}/image", f"{base}/frames/{frame.frame_id}/thumbnail"]
    forms = [f"{base}/settings", f"{base}/password", f"{base}/delete", f"{base}/shares",
             f"{base}/shares/{share_id}/revoke"]

    other, _ = sign_up(api_stack)
    for path in pages + bytes_:
        assert other.get(path).status_code == 404, path
    for path in forms:
        assert other.post(path, {"name": "Taken over", "label": "mine"}).status_code == 404, path
    assert "Owner&#x27;s camera" not in other.get("/cameras").text

    anonymous = Visitor(api_stack)
    for path in pages:
        answer = anonymous.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next="), path
    for path in bytes_:
        assert anonymous.get(path).status_code == 404, path
    for path in forms:
        assert anonymous.post(path, {"name": "Taken over"}).headers["Location"].startswith("/login"), path

    after = owner.get(f"/cameras/{camera_id}/settings").text  # nothing changed
    assert "Owner&#x27;s camera" in after and field(after, "password") == password
    assert share_id in owner.get(f"/cameras/{camera_id}/shares").text


# -- browsing, sharing ------------------------------------------------------------------


def test_browse_by_day_and_hour_and_view_frames(api_stack: ApiStack) -> None:
    visitor, _ = sign_up(api_stack)
    camera_id = create_camera(visitor, "Garden")
    username = field(visitor.get(f"/cameras/{camera_id}/upload").text, "username")
    busy_hour = [utc_us(2026, 3, 14, 10, 0, 0) + n * 1_000_000 for n in range(121)]  # over one page
    times = [utc_us(2026, 3, 14, 9, 5), utc_us(2026, 3, 14, 9, 10), *busy_hour, utc_us(2026, 3, 16, 0, 0, 1)]
    seeded = seed_frames(api_stack, username, times)
    ids = [record.frame_id for record, _ in seeded]
    base = f"/cameras/{camera_id}"

    overview = visitor.get(base).text  # the month and day of the latest frame
    assert 'data-month="2026-03"' in overview and "124 frames" in overview
    assert 'data-day="2026-03-14" data-count="123"' in overview and 'data-day="2026-03-16" data-count="1"' in overview
    assert 'data-day="2026-03-15" data-count="0"' in overview
    assert f"{base}/frames/{ids[-1]}/thumbnail" in overview  # the latest frame
    day = visitor.get(f"{base}?day=2026-03-14").text
    assert attribute_values(day, "data-hour") == ["2026-03-14T09", "2026-03-14T10"]
    assert 'data-month="2026-02"' in visitor.get(f"{base}?month=2026-02").text
    for bad in (f"{base}?day=2026-02-30", f"{base}?month=2026-13", f"{base}/hours/2026-03-14", f"{base}/hours/x"):
        assert visitor.get(bad).status_code == 400, bad

    nine = visitor.get(f"{base}/hours/2026-03-14T09").text
    assert attribute_values(nine, "data-frame-id") == ids[:2]
    assert f'href="{base}/hours/2026-03-14T10" rel="next"' in nine and 'rel="prev"' not in nine
    ten = visitor.get(f"{base}/hours/2026-03-14T10").text
    assert attribute_values(ten, "data-frame-id") == ids[2:122]
    assert f'href="{base}/hours/2026-03-14T10?page=2" rel="next" id="page-next"' in ten
    assert 'aria-current="page" class="current">1<' in ten
    rest = visitor.get(f"{base}/hours/2026-03-14T10?page=2").text
    assert attribute_values(rest, "data-frame-id") == [ids[122]]
    assert f'href="{base}/hours/2026-03-14T10?page=1" rel="prev" id="page-previous"' in rest  # a way back
    for bad in ("page=3", "page=0", "page=x"):
        assert visitor.get(f"{base}/hours/2026-03-14T10?{bad}").status_code == 404, bad
    on_page_two = visitor.get(f"{base}/frames/{ids[122]}").text  # "all frames of this hour" lands on its page
    assert f'href="{base}/hours/2026-03-14T10?page=2#f-{ids[122]}"' in on_page_two
    assert f'href="{base}/hours/2026-03-16T00" rel="next"' in ten
    assert f'href="{base}/hours/2026-03-14T09" rel="prev"' in ten

    first = visitor.get(f"{base}/frames/{ids[0]}").text
    assert 'id="previous-frame"' not in first and f'href="{base}/frames/{ids[1]}">Next' in first
    second = visitor.get(f"{base}/frames/{ids[1]}").text  # crosses into the next hour
    assert f'href="{base}/frames/{ids[0]}">‹ Previous' in second and f'href="{base}/frames/{ids[2]}">Next' in second
    last = visitor.get(f"{base}/frames/{ids[-1]}").text
    assert 'id="next-frame"' not in last and "2026-03-16 00:00:01.000 UTC" in last and "seed123.jpg" in last
    assert visitor.get(f"{base}/frames/nope").status_code == 404

    image = visitor.get(f"{base}/frames/{ids[0]}/image")
    assert image.status_code == 200 and image.content == seeded[0][1]
    assert image.headers["Content-Type"] == "image/jpeg"
    assert visitor.get(f"{base}/frames/{ids[0]}/thumbnail").content[:2] == b"\xff\xd8"

    listing = visitor.get("/cameras").text
    assert f"{base}/frames/{ids[-1]}/thumbnail" in listing and "124 frames" in listing


def test_share_links_and_public_cameras(api_stack: ApiStack) -> None:
    owner, _ = sign_up(api_stack)
    camera_id = create_camera(owner, "Bird feeder")
    username = field(owner.get(f"/cameras/{camera_id}/upload").text, "username")
    frame, jpeg = seed_frames(api_stack, username, [utc_us(2026, 4, 1, 7, 15)])[0]
    created = owner.post(f"/cameras/{camera_id}/shares", {"label": "Grandma"})
    assert created.status_code == 200 and "New share link" in created.text
    link = field(created.text.replace('id="share-link"', 'data-field="share-link"'), "share-link")
    assert link.startswith(f"{api_stack.url}/cameras/{camera_id}?share=shr_")
    share_id = attribute_values(created.text, "data-share-id")[0]
    assert "Grandma" in owner.get(f"/cameras/{camera_id}/shares").text

    visitor = Visitor(api_stack)  # no account, only the link
    shared = visitor.get(link)
    token = link.split("share=", 1)[1]
    assert shared.status_code == 200 and "Bird feeder" in shared.text and "Shared with you" in shared.text
    assert "/settings" not in shared.text and "/upload" not in shared.text and username not in shared.text
    hour_link = f"/cameras/{camera_id}/hours/2026-04-01T07?share={token}"
    assert f'href="{hour_link}"' in shared.text  # links carry the share token on
    hour = visitor.get(hour_link).text
    assert f"/cameras/{camera_id}/frames/{frame.frame_id}?share={token}" in hour
    assert visitor.get(f"/cameras/{camera_id}/frames/{frame.frame_id}/image?share={token}").content == jpeg
    assert visitor.get(f"/cameras/{camera_id}/live?share={token}").status_code == 200
    assert visitor.get(f"/cameras/{camera_id}/settings?share={token}").status_code == 302  # to the login
    assert visitor.get(f"/cameras/{camera_id}?share=shr_wrong").status_code == 404

    revoked = owner.post(f"/cameras/{camera_id}/shares/{share_id}/revoke")
    assert revoked.headers["Location"] == f"/cameras/{camera_id}/shares?done=revoked"
    gone = visitor.get(link)
    assert gone.status_code == 404 and "the share link was revoked" in gone.text
    assert visitor.get(f"/cameras/{camera_id}/frames/{frame.frame_id}/image?share={token}").status_code == 404

    owner.post(f"/cameras/{camera_id}/settings", {"name": "Bird feeder", "public": "on", "enabled": "on"})
    public = visitor.get(f"/cameras/{camera_id}")
    assert public.status_code == 200 and "Public" in public.text and "/settings" not in public.text
    assert visitor.get(f"/cameras/{camera_id}/frames/{frame.frame_id}/image").content == jpeg
    assert visitor.get(f"/cameras/{camera_id}/settings").status_code == 302  # reading is all


# -- the pure parts ----------------------------------------------------------------------


def test_month_grid_and_day_hours() -> None:
    counts = [(utc_us(2026, 2, 28, 23), 5), (utc_us(2026, 3, 1, 0), 2), (utc_us(2026, 3, 1, 13), 8),
              (utc_us(2026, 3, 31, 23), 1)]
    march = month(date(2026, 3, 1), counts)
    days = [day for week in march.weeks for day in week]
    assert days[0].date == date(2026, 2, 23) and days[-1].date == date(2026, 4, 5)  # Monday to Sunday
    assert all(len(week) == 7 for week in march.weeks)
    assert march.total == 11 and (march.previous, march.next, march.title) == ("2026-02", "2026-04", "March 2026")
    by_day = {day.date: day for day in days}
    assert by_day[date(2026, 3, 1)].count == 10 and by_day[date(2026, 3, 1)].level == 4
    assert by_day[date(2026, 3, 31)].level == 1 and by_day[date(2026, 2, 28)].count == 0  # outside the month
    hours = day_hours(date(2026, 3, 1), counts)
    assert len(hours) == 24 and [h.count for h in hours if h.count] == [2, 8]
    assert hours[13].key == "2026-03-01T13" and hours[13].label == "13:00" and hours[0].level == 1
    assert month(date(2026, 12, 1), []).next == "2027-01"
    assert parse_hour("2026-03-01T13") == utc_us(2026, 3, 1, 13)
    for text in ("2026-3", "2026-00", "1969-12", "x"):
        with pytest.raises(InvalidInput):
            parse_month(text)
    with pytest.raises(InvalidInput):
        parse_hour("2026-03-01T24")


def test_upload_commands_are_quoted_for_the_shell() -> None:
    settings = Settings()
    camera = Camera(id="c1", owner_id="u1", name="x", username="cam1234", password="pa ss'wo$rd",
                    public=False, retention_days=None, enabled=True, created_us=0)
    guide = upload_guide(upload_login(camera, settings), settings)
    curl = shlex.split(guide.command("curl").text)
    assert curl[:5] == ["curl", "-T", "Rocketship.jpg", "-H", "Content-Type: image/jpeg"]
    assert curl[5] == upload_login(camera, settings).photo_url  # percent-encoded password: one word
    wget = shlex.split(guide.command("wget").text)
    assert "--password=pa ss'wo$rd" in wget and "--user=cam1234" in wget
    assert wget[-1] == without_credentials(guide.photo_url) and "@" not in wget[-1]
    assert without_credentials("http://a:b@[::1]:8080/photo/a") == "http://[::1]:8080/photo/a"


def test_login_redirects_stay_on_this_site() -> None:
    assert safe_next("/cameras/abc?day=2026-03-01") == "/cameras/abc?day=2026-03-01"
    for target in (None, "", "https://evil.example/", "//evil.example/", "/\\evil.example", "evil", "/a\nb"):
        assert safe_next(target) == "/cameras"


def test_cookie_secret_is_made_once_even_by_racing_processes(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secret"
    found: list[str] = []
    threads = [threading.Thread(target=lambda: found.append(kept_secret(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and len(found[0]) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary files left
    assert kept_secret(path) == found[0]
