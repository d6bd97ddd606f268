"""The account (api/accounts.py, api/v1/account.py, /me in api/v1/users.py, api/ui/account.py):
a new password ends the other sessions and tokens, sessions and tokens are listed and
revoked, signing out everywhere, and closing the account takes its cameras, share links,
frames and images (through the catalog worker's purge, as deleting a camera does)."""

from __future__ import annotations

import re

import requests

from sensr.index import FrameIndex
from tests.support.api import PASSWORD, ApiStack, create_camera, object_stored, seed_frames, sign_up
from tests.support.harness import eventually
from tests.support.ui import Visitor, field
from tests.support.ui import create_camera as ui_create_camera
from tests.support.ui import sign_up as ui_sign_up

NEW_PASSWORD = "another long password"
DAY_US = 1_795_996_800_000_000  # 2026-11-30T00:00:00Z


def log_in(stack: ApiStack, email: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(stack.api("/tokens"), json={"email": email, "password": password}, timeout=30)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_new_password_ends_every_other_session_and_token(api_stack: ApiStack) -> None:
    account = sign_up(api_stack)
    other = log_in(api_stack, account.email).json()["token"]
    browser, _ = ui_sign_up(api_stack)  # another user's browser, untouched
    change = api_stack.api("/me/password")
    assert account.session.post(change, json={"current_password": "wrong password!", "new_password": NEW_PASSWORD},
                                timeout=30).status_code == 400
    assert account.session.post(change, json={"current_password": PASSWORD, "new_password": "short"},
                                timeout=30).status_code == 400
    assert requests.get(api_stack.api("/me"), headers=bearer(other), timeout=30).status_code == 200
    answer = account.session.post(change, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                                  timeout=30)
    assert answer.status_code == 204, answer.text
    assert requests.get(api_stack.api("/me"), headers=bearer(other), timeout=30).status_code == 401
    assert account.session.get(api_stack.api("/me"), timeout=30).status_code == 200  # this one stays
    assert log_in(api_stack, account.email).status_code == 401
    assert log_in(api_stack, account.email, NEW_PASSWORD).status_code == 201
    assert browser.get("/account").status_code == 200


def test_sessions_and_tokens_are_listed_and_revoked(api_stack: ApiStack) -> None:
    account = sign_up(api_stack)
    second = log_in(api_stack, account.email).json()["token"]
    listed = account.session.get(api_stack.api("/me/tokens"), timeout=30).json()["tokens"]
    assert len(listed) == 2 and {token["kind"] for token in listed} == {"api"}
    assert [token["current"] for token in listed] == [False, True]  # newest first: `second` is not this request's
    assert all(second not in str(token) and account.token not in str(token) for token in listed)
    assert account.session.delete(api_stack.api("/me/tokens/0123456789abcdef"), timeout=30).status_code == 404
    assert account.session.delete(api_stack.api("/me/tokens/%25"), timeout=30).status_code == 404
    assert account.session.delete(api_stack.api(f"/me/tokens/{listed[0]['id']}"), timeout=30).status_code == 204
    assert requests.get(api_stack.api("/me"), headers=bearer(second), timeout=30).status_code == 401
    assert len(account.session.get(api_stack.api("/me/tokens"), timeout=30).json()["tokens"]) == 1

    third = log_in(api_stack, account.email).json()["token"]
    assert account.session.delete(api_stack.api("/me/tokens"), timeout=30).status_code == 204  # everywhere
    for token in (account.token, third):
        assert requests.get(api_stack.api("/me"), headers=bearer(token), timeout=30).status_code == 401


def test_the_time_zone_is_kept_and_checked(api_stack: ApiStack) -> None:
    account = sign_up(api_stack)
    me = api_stack.api("/me")
    assert account.session.get(me, timeout=30).json()["time_zone"] is None
    assert account.session.patch(me, json={"time_zone": "Mars/Olympus_Mons"}, timeout=30).status_code == 400
    answer = account.session.patch(me, json={"time_zone": "Europe/Berlin"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["time_zone"] == "Europe/Berlin"
    assert account.session.get(me, timeout=30).json()["time_zone"] == "Europe/Berlin"
    assert account.session.patch(me, json={"time_zone": None}, timeout=30).json()["time_zone"] is None


def test_closing_an_account_takes_everything_it_holds(edge_stack: ApiStack) -> None:
    account = sign_up(edge_stack)
    cameras = [create_camera(edge_stack, account, name=name) for name in ("One", "Two")]
    seeded = seed_frames(edge_stack, cameras[0]["username"], [DAY_US, DAY_US + 1_000_000])
    share = account.session.post(edge_stack.api(f"/cameras/{cameras[0]['id']}/shares"), json={}, timeout=30).json()
    bystander = sign_up(edge_stack)
    kept = create_camera(edge_stack, bystander, name="Not mine")

    assert account.session.delete(edge_stack.api("/me"), json={"password": "wrong password!"},
                                  timeout=30).status_code == 400
    assert account.session.get(edge_stack.api("/cameras"), timeout=30).json()["cameras"]
    answer = account.session.delete(edge_stack.api("/me"), json={"password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"cameras": 2, "frames": 2, "share_links": 1}
    assert account.session.get(edge_stack.api("/me"), timeout=30).status_code == 401
    assert log_in(edge_stack, account.email).status_code == 401
    assert requests.get(edge_stack.api(f"/cameras/{cameras[0]['id']}"), params={"share": share["token"]},
                        timeout=30).status_code == 404

    index = FrameIndex.open(edge_stack.env["SENSR_DATABASE_URL"])
    try:
        eventually(lambda: index.totals(cameras[0]["username"]) == (0, 0), timeout=60)
    finally:
        index.close()
    assert not any(object_stored(edge_stack, record.object_key) or object_stored(edge_stack, record.thumbnail_key)
                   for record, _ in seeded)
    assert bystander.session.get(edge_stack.api(f"/cameras/{kept['id']}"), timeout=30).status_code == 200
    again = requests.post(edge_stack.api("/users"), json={"email": account.email, "password": PASSWORD}, timeout=30)
    assert again.status_code == 201  # the address is free again


def test_the_account_page(api_stack: ApiStack) -> None:
    visitor, email = ui_sign_up(api_stack)
    elsewhere = Visitor(api_stack)
    assert elsewhere.post("/login", {"email": email, "password": PASSWORD}).status_code == 302
    page = visitor.get("/account").text
    assert email in page and page.count("Browser session") == 2 and "(this browser)" in page
    assert 'href="/account"' in visitor.get("/cameras").text  # the e-mail address in the top bar leads here

    wrong = visitor.post("/account/password", {"current_password": "not it at all", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 400 and "The current password is not right." in wrong.text
    changed = visitor.post("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.headers["Location"] == "/account?done=password-changed"
    assert elsewhere.get("/account").status_code == 302  # that browser was signed out
    assert visitor.get("/account").text.count("Browser session") == 1

    saved = visitor.post("/account/time-zone", {"time_zone": "America/New_York"})
    assert saved.headers["Location"] == "/account?done=time-zone"
    assert "times are America/New_York" in visitor.get("/account").text
    assert visitor.post("/account/time-zone", {"time_zone": "Nowhere/Land"}).status_code == 400

    token = log_in(api_stack, email, NEW_PASSWORD).json()["token"]
    ids = re.findall(r'data-token="([0-9a-f]+)"', visitor.get("/account").text)
    assert len(ids) == 2
    revoked = visitor.post(f"/account/tokens/{ids[0]}/revoke")  # newest first: the API token
    assert revoked.headers["Location"] == "/account?done=token-revoked"
    assert requests.get(api_stack.api("/me"), headers=bearer(token), timeout=30).status_code == 401

    out = visitor.post("/account/sign-out-everywhere")
    assert out.headers["Location"] == "/login?done=signed-out-everywhere"
    assert visitor.get("/account").status_code == 302


def test_the_delete_page_says_what_goes_first(api_stack: ApiStack) -> None:
    visitor, email = ui_sign_up(api_stack)
    camera_id = ui_create_camera(visitor, "Barn")
    ui_create_camera(visitor, "Gate")
    username = field(visitor.get(f"/cameras/{camera_id}/upload").text, "username")
    seed_frames(api_stack, username, [DAY_US + n for n in range(3)])
    visitor.post(f"/cameras/{camera_id}/shares", {"label": "family"})
    page = visitor.get("/account/delete").text
    assert "2 cameras" in page and "“Barn”, “Gate”" in page and "3 frames" in page and "1 share link:" in page
    refused = visitor.post("/account/delete", {"password": "not the password"})
    assert refused.status_code == 400 and "The password is not right." in refused.text
    assert visitor.get(f"/cameras/{camera_id}").status_code == 200
    done = visitor.post("/account/delete", {"password": PASSWORD})
    assert done.headers["Location"] == "/login?done=account-deleted"
    assert visitor.get(f"/cameras/{camera_id}").status_code == 302  # logged out
    assert log_in(api_stack, email).status_code == 401
