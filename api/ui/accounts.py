"""Sign-up, login and logout pages. Logins go through the same user service and the same
failed-login throttle as `POST /api/v1/tokens`; only users log in here (a camera's upload
login is no e-mail address and opens nothing but the upload hosts)."""

from __future__ import annotations

import math

from api.errors import ApiError, InvalidInput, RateLimited
from api.ui.base import PageHandler
from api.v1.users import _account_key

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
        await self.session.start(user)
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
        address, account = self.request.remote_ip or "?", _account_key(email)
        throttle = self.services.throttle
        wait = throttle.retry_after(address, account)
        if wait > 0:
            self.set_status(RateLimited.status)
            self.set_header("Retry-After", str(max(1, math.ceil(wait))))
            self._form(target, email, f"Too many failed logins. Try again in {_duration(wait)}.")
            return
        try:
            user = await self.services.run(self.services.users.authenticate, email, password)
        except InvalidInput as error:
            self.set_status(error.status)
            self._form(target, email, error.message)
            return
        if user is None:
            throttle.failed(address, account)
            self.set_status(401)
            self._form(target, email, WRONG_LOGIN)
            return
        throttle.succeeded(address, account)
        await self.session.start(user)
        self.redirect(target)

    def _form(self, target: str, email: str = "", error: str | None = None) -> None:
        self.render("login.html", title="Log in", email=email, error=error, next=target)


class LogoutPage(PageHandler):
    async def post(self) -> None:
        await self.session.end()
        self.redirect("/login?done=logged-out")


def _duration(seconds: float) -> str:
    """`5 seconds`, `3 minutes`: how long to wait, rounded up, for people."""
    if seconds <= 90:
        whole = max(1, math.ceil(seconds))
        return f"{whole} second{'s' if whole > 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"
