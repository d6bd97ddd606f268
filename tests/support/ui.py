"""Support for the web UI's tests (no tests here): a visitor that browses the UI over HTTP
with a cookie jar and sends forms with their XSRF token as a browser does, and helpers
that read values off the pages.

The api itself comes from tests/support/api.py (`api_stack`, `edge_stack`).
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import requests

from tests.support.api import PASSWORD, ApiStack

_XSRF = re.compile(r'name="_xsrf" value="([^"]+)"')


class Visitor:
    """One browser: its own cookies (session, XSRF)."""

    def __init__(self, stack: ApiStack) -> None:
        self.stack = stack
        self.session = requests.Session()
        self._xsrf: str | None = None

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.stack.url}{path}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        return self.session.get(self.url(path), **kwargs)

    def xsrf(self) -> str:
        """The XSRF token forms carry (read off a form, as a browser has it)."""
        if self._xsrf is None:
            page = self.get("/login")
            match = _XSRF.search(page.text)
            assert match, "no XSRF field in the login form"
            self._xsrf = html.unescape(match[1])
        return self._xsrf

    def post(self, path: str, data: dict[str, str] | None = None, *, xsrf: bool = True,
             **kwargs: Any) -> requests.Response:
        """A form submission (with the XSRF token unless told otherwise)."""
        form = dict(data or {})
        if xsrf:
            form["_xsrf"] = self.xsrf()
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        return self.session.post(self.url(path), data=form, **kwargs)

    @property
    def session_cookie(self) -> str | None:
        return self.session.cookies.get("sensr_session")


def sign_up(stack: ApiStack, email: str | None = None) -> tuple[Visitor, str]:
    """A new account signed up through the sign-up form: its (logged-in) visitor and e-mail."""
    email = email or f"ui-{uuid.uuid4().hex[:10]}@example.com"
    visitor = Visitor(stack)
    answer = visitor.post("/signup", {"email": email, "password": PASSWORD})
    assert answer.status_code == 302 and answer.headers["Location"] == "/cameras?done=signed-up", answer.text
    return visitor, email.lower()


def create_camera(visitor: Visitor, name: str = "Front door", **fields: str) -> str:
    """A camera made with the "create new camera" form; returns its id."""
    answer = visitor.post("/cameras/new", {"name": name, **fields})
    assert answer.status_code == 302, answer.text
    match = re.fullmatch(r"/cameras/([^/]+)/upload\?done=created", answer.headers["Location"])
    assert match, answer.headers["Location"]
    return match[1]


def field(page: str, name: str) -> str:
    """The text of the element marked `data-field="name"`."""
    match = re.search(rf'data-field="{re.escape(name)}">([^<]*)<', page)
    assert match, f"no {name} on the page"
    return html.unescape(match[1])


def command(page: str, key: str) -> str:
    """The copy-paste command `key` (curl, wget, ffmpeg, ...) shown on the page."""
    match = re.search(rf'<code id="cmd-{re.escape(key)}">([^<]*)</code>', page)
    assert match, f"no {key} command on the page"
    return html.unescape(match[1])


def attribute_values(page: str, attribute: str) -> list[str]:
    return [html.unescape(value) for value in re.findall(rf'{re.escape(attribute)}="([^"]*)"', page)]
