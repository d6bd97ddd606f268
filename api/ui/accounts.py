"""Sign-up, login and logout pages. Logins go through the same flow and throttle as `POST
/api/v1/tokens` (`api.login`) and start a cookie session (`api.sessions`); only users log
in here (a camera's upload login is no e-mail address and opens nothing but the upload
hosts)."""

from __future__ import annotations

import math

from api.errors import ApiError, InvalidInput, RateLimited, Unauthorized
from api.sessions import end_session, start_session
from api.ui.base import PageHandler

WRONG_LOGIN = "Wrong e-mail address or password."


def safe_next(target: str | None, default: str = "/cameras") -> str:
    """`target` if it is a path on this site, else `default`: a login link cannot send
    anyone to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(char) < 0x20 for char in target):
        return default
    return target


class HomePage(PageHandler):
    def get(self) -> None:
        self.redirect("/cameras" if self.current_user else "/login")


class SignUpPage(PageHandler):
    def get(self) -> None:
        if self.current_user:
            self.redirect("/cameras")
            return
        self._form()

    async def post(self) -> None:
        email = self.get_body_argument("email", "")
        password = self.get_body_argument("password", "")
        try:
            user = await self.services.run(self.services.users.sign_up, email, password)
        except ApiError as error:
            self.set_status(error.status)
            self._form(email=email, error=error.message)
            return
        await start_session(self, self.services, user, replacing=self.caller.token)
        self.redirect("/cameras?done=signed-up")

    def _form(self, email: str = "", error: str | None = None) -> None:
        self.render("signup.html", title="Sign up", email=email, error=error,
                    min_length=self.services.settings.api.min_password_length)


class LoginPage(PageHandler):
    def get(self) -> None:
        target = safe_next(self.get_query_argument("next", None))
        if self.current_user:
            self.redirect(target)
            return
        self._form(target)

    async def post(self) -> None:
        email = self.get_body_argument("email", "")
        password = self.get_body_argument("password", "")
        target = safe_next(self.get_body_argument("next", None))
        try:
            user = await self.services.login.authenticate(self.request.remote_ip or "?", email, password)
        except RateLimited as refusal:
            self.set_status(refusal.status)
            self.set_header("Retry-After", refusal.retry_after_header)
            self._form(target, email, f"Too many failed logins. Try again in {_duration(refusal.retry_after)}.")
            return
        except Unauthorized as refusal:
            self.set_status(refusal.status)
            self._form(target, email, WRONG_LOGIN)
            return
        except InvalidInput as error:
            self.set_status(error.status)
            self._form(target, email, error.message)
            return
        await start_session(self, self.services, user, replacing=self.caller.token)
        self.redirect(target)

    def _form(self, target: str, email: str = "", error: str | None = None) -> None:
        self.render("login.html", title="Log in", email=email, error=error, next=target)


class LogoutPage(PageHandler):
    async def post(self) -> None:
        await end_session(self, self.services, self.caller.token)
        self.redirect("/login?done=logged-out")


def _duration(seconds: float) -> str:
    """`5 seconds`, `3 minutes`: how long to wait, rounded up, for people."""
    if seconds <= 90:
        whole = max(1, math.ceil(seconds))
        return f"{whole} second{'s' if whole > 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"
