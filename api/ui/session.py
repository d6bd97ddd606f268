"""The web UI's login session: a signed cookie holding a bearer token of the TokenService.

Logging in issues a token (exactly as `POST /api/v1/tokens` does) and puts it in the
`sensr_session` cookie, signed with the cookie secret, HttpOnly, SameSite=Lax and Secure
when `SENSR_SECURE_COOKIES` says so. Each request looks the token up, so logging out
(the token is revoked) or its expiry ends the session everywhere at once, and a stolen
cookie stops working when its owner logs out.

The cookie secret is `SENSR_COOKIE_SECRET`, or else one generated on first start and
kept in the data folder (readable by its owner only), so sessions survive restarts.
Several api replicas on different machines must be given the same secret.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import tornado.web

from api.services import Services
from api.users import User
from sensr.settings import Settings

SESSION_COOKIE = "sensr_session"
SECRET_FILE = "api-cookie-secret"
_MIN_SECRET_CHARS = 32


def cookie_secret(settings: Settings) -> str:
    """The secret that signs session cookies (see the module docstring)."""
    return settings.api.cookie_secret or kept_secret(settings.core.data_dir / SECRET_FILE)


def kept_secret(path: Path) -> str:
    """The secret stored at `path`, created (mode 0600) when there is none. Processes
    starting at once agree: each writes a whole file under a temporary name and links it
    into place; whoever loses the race reads the winner's."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48) + "\n")
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    secret = path.read_text().strip()
    if len(secret) < _MIN_SECRET_CHARS:
        raise RuntimeError(f"the cookie secret in {path} is too short: delete the file to have a new one made")
    return secret


class Session:
    """Reads, starts and ends the session of one request."""

    def __init__(self, handler: tornado.web.RequestHandler, services: Services) -> None:
        self._handler = handler
        self._services = services
        self.token: str | None = None

    async def user(self) -> User | None:
        """The logged-in user, or None (no cookie, a forged one, or a token that expired or
        was revoked)."""
        lifetime = self._services.settings.api.token_lifetime_days
        value = self._handler.get_signed_cookie(SESSION_COOKIE, max_age_days=lifetime)
        if not value:
            return None
        token = value.decode()
        user = await self._services.run(self._services.tokens.user_for, token)
        self.token = token if user is not None else None
        return user

    async def start(self, user: User) -> None:
        """Log `user` in: a new token in a new cookie (a session the browser had before ends)."""
        if self.token is not None:
            await self._services.run(self._services.tokens.revoke, self.token)
        issued = await self._services.run(self._services.tokens.issue, user)
        self.token = issued.token
        api = self._services.settings.api
        self._handler.set_signed_cookie(SESSION_COOKIE, issued.token, expires_days=api.token_lifetime_days,
                                        httponly=True, samesite="Lax", secure=api.secure_cookies)

    async def end(self) -> None:
        """Revoke the session's token and drop the cookie."""
        if self.token is not None:
            await self._services.run(self._services.tokens.revoke, self.token)
            self.token = None
        self._handler.clear_cookie(SESSION_COOKIE, httponly=True, samesite="Lax",
                                   secure=self._services.settings.api.secure_cookies)
