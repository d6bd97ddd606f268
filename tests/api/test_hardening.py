"""Hostile input to the api (issue 17): text with control characters is refused as the
client's mistake (400, or a form error) on SQLite and PostgreSQL alike, never a database
error; a database failure is never a bare 500; links never follow the Host header."""

from __future__ import annotations

import base64
import re

import pytest
import requests
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError

from api.db import api_error
from api.errors import Conflict, InvalidInput, Unavailable
from api.links import public_base_url
from api.text import PLAIN_TEXT_PATTERN, is_plain, plain_text
from sensr.settings import Settings
from tests.support.api import PASSWORD, ApiStack, create_camera, sign_up
from tests.support.ui import Visitor
from tests.support.ui import create_camera as ui_create_camera
from tests.support.ui import sign_up as ui_sign_up

CONTROL_CHARACTERS = ["\x00", "\x01", "\n", "\x1b", "\x7f", "\x85"]


# -- the rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_control_characters_are_not_plain_text(character: str) -> None:
    assert not is_plain(f"front{character}door")
    with pytest.raises(InvalidInput, match="name must not contain control characters"):
        plain_text(f"front{character}door", "name")


def test_printable_text_of_any_script_is_plain() -> None:
    for text in ("Front door", "Garten – Süd", "玄関", "a@b.example", "emoji 📷", ""):
        assert plain_text(text, "name") == text


def test_the_published_pattern_says_the_same() -> None:
    for text in ("Front door", "玄関", *(f"a{c}b" for c in CONTROL_CHARACTERS)):
        assert (re.fullmatch(PLAIN_TEXT_PATTERN, text) is not None) == is_plain(text)


def test_database_errors_become_answers() -> None:
    def error(kind: type) -> object:
        return kind("SELECT 1", {"password": "secret"}, Exception("boom"))

    assert isinstance(api_error(error(DataError)), InvalidInput)
    assert isinstance(api_error(error(IntegrityError)), Conflict)
    assert isinstance(api_error(error(OperationalError)), Unavailable)
    assert api_error(error(ProgrammingError)) is None  # a bug: a 500, logged with its trace


# -- through the api, on both databases ------------------------------------------------------

def _assert_refused(response: requests.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_input", "message": f"{field} must not contain control characters"}


@pytest.mark.parametrize("character", ["\x00", "\x1f"])
def test_sign_up_and_login_refuse_control_characters_in_the_email(api_stack: ApiStack, character: str) -> None:
    email = f"nul{character}byte@example.com"
    for path in ("/users", "/tokens"):
        answer = requests.post(api_stack.api(path), json={"email": email, "password": PASSWORD}, timeout=30)
        _assert_refused(answer, "email")
    assert requests.get(f"{api_stack.url}/readyz", timeout=30).status_code == 200


def test_camera_names_and_share_labels_refuse_control_characters(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    _assert_refused(owner.session.post(api_stack.api("/cameras"), json={"name": "nul\x00cam"}, timeout=30), "name")
    camera = create_camera(api_stack, owner)
    patched = owner.session.patch(api_stack.api(f"/cameras/{camera['id']}"), json={"name": "bell\x07"}, timeout=30)
    _assert_refused(patched, "name")
    shared = owner.session.post(api_stack.api(f"/cameras/{camera['id']}/shares"), json={"label": "x\x00"}, timeout=30)
    _assert_refused(shared, "label")
    listed = owner.session.get(api_stack.api("/cameras"), timeout=30).json()["cameras"]
    assert [c["name"] for c in listed] == ["Front door"]


def test_ids_with_control_characters_are_not_found(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    for path in ("/cameras/%00", f"/cameras/{camera['id']}/frames/%00", f"/cameras/{camera['id']}/shares/%00",
                 f"/cameras/{camera['id']}/frames/a%00b/image"):
        answer = owner.session.get(api_stack.api(path), timeout=30)
        assert answer.status_code in (404, 405), (path, answer.text)
        assert answer.headers["Content-Type"].startswith("application/json")
    assert owner.session.delete(api_stack.api(f"/cameras/{camera['id']}/shares/%00"), timeout=30).status_code == 404
    assert requests.get(f"{api_stack.url}/cameras/%00", timeout=30, allow_redirects=False).status_code == 404


def test_a_value_the_database_cannot_hold_is_the_clients_mistake(api_stack: ApiStack) -> None:
    """A cursor is opaque and decoded by the index: one forged to carry a NUL reaches the
    query. PostgreSQL refuses it; the answer is a 400, not a 500."""
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    cursor = base64.urlsafe_b64encode(b"1.\x00").decode().rstrip("=")
    answer = owner.session.get(api_stack.api(f"/cameras/{camera['id']}/frames"), params={"cursor": cursor},
                               timeout=30)
    expected = 400 if api_stack.env["SENSR_DATABASE_URL"].startswith("postgresql") else 200
    assert answer.status_code == expected, answer.text
    if expected == 400:
        assert answer.json()["error"] == "invalid_input"


def test_ui_forms_refuse_control_characters(api_stack: ApiStack) -> None:
    """Tornado's form arguments already turn most C0 characters (NUL among them) into
    spaces; DEL and C1 characters it lets through reach the same rule."""
    visitor = Visitor(api_stack)
    for path in ("/signup", "/login"):
        answer = visitor.post(path, {"email": "del\x7f@example.com", "password": PASSWORD})
        assert answer.status_code == 400 and "email must not contain control characters" in answer.text.lower(), answer.text
    owner, _ = ui_sign_up(api_stack)
    refused = owner.post("/cameras/new", {"name": "nel\x85cam"})
    assert refused.status_code == 400 and "name must not contain control characters" in refused.text.lower()
    camera_id = ui_create_camera(owner)
    for path, form in ((f"/cameras/{camera_id}/settings", {"name": "del\x7f"}),
                       (f"/cameras/{camera_id}/shares", {"label": "del\x7f"})):
        answer = owner.post(path, form)
        assert answer.status_code == 400 and "must not contain control characters" in answer.text, answer.text


# -- links -------------------------------------------------------------------------------------

def test_the_default_public_url_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENSR_PUBLIC_URL", raising=False)
    for host, port, expected in (("sensr.example", "8000", "http://sensr.example:8000"), ("::1", "80", "http://[::1]")):
        monkeypatch.setenv("SENSR_PUBLIC_HOST", host)
        monkeypatch.setenv("SENSR_API_PORT", port)
        assert public_base_url(Settings()) == expected
    monkeypatch.setenv("SENSR_PUBLIC_URL", "https://cams.example/sensr/")
    assert public_base_url(Settings()) == "https://cams.example/sensr"


def test_share_links_ignore_a_crafted_host_header(api_stack: ApiStack) -> None:
    """SENSR_PUBLIC_URL is empty in the test stack: links use the configured host and port."""
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    answer = owner.session.post(api_stack.api(f"/cameras/{camera['id']}/shares"), json={},
                                headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"}, timeout=30)
    assert answer.status_code == 201, answer.text
    assert answer.json()["url"].startswith(f"{api_stack.url}/api/v1/cameras/{camera['id']}?share=")
    visitor, _ = ui_sign_up(api_stack)
    camera_id = ui_create_camera(visitor)
    cookies = "; ".join(f"{name}={value}" for name, value in visitor.session.cookies.items())
    page = requests.post(visitor.url(f"/cameras/{camera_id}/shares"),  # cookies by hand: the jar follows Host
                         data={"label": "for Bob", "_xsrf": visitor.xsrf()},
                         headers={"Host": "evil.example", "Cookie": cookies}, timeout=30)
    assert page.status_code == 200, page.text
    assert f"{api_stack.url}/cameras/{camera_id}?share=" in page.text and "evil.example" not in page.text
