"""A browser's login session: a signed cookie holding a bearer token of the TokenService.

Logging in issues a token (exactly as `POST /api/v1/tokens` does) and puts it in the
`sensr_session` cookie, signed with the cookie secret, HttpOnly, SameSite=Lax and Secure
when `SENSR_SECURE_COOKIES` says so. Each request looks the token up, so logging out
(the token is revoked) or its expiry ends the session everywhere at once, and a stolen
cookie stops working when its owner logs out. The web UI starts and ends sessions
(`api.ui.accounts`); `api.callers` reads them.

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


def session_token(handler: tornado.web.RequestHandler, settings: Settings) -> str | None:
    """The token in the request's session cookie, or None (no cookie, a forged one, or one
    older than a token lives). Whether the token still opens anything is for the token
    service to say."""
    value = handler.get_signed_cookie(SESSION_COOKIE, max_age_days=settings.api.token_lifetime_days)
    return value.decode() if value else None


async def start_session(handler: tornado.web.RequestHandler, services: Services, user: User,
                        replacing: str | None) -> None:
    """Log `user` in: a new token in a new cookie. `replacing`, the token of a session the
    browser had before, is revoked."""
    if replacing is not None:
        await services.run(services.tokens.revoke, replacing)
    issued = await services.run(services.tokens.issue, user, "session")
    api = services.settings.api
    handler.set_signed_cookie(SESSION_COOKIE, issued.token, expires_days=api.token_lifetime_days,
                              httponly=True, samesite="Lax", secure=api.secure_cookies)


async def end_session(handler: tornado.web.RequestHandler, services: Services, token: str | None) -> None:
    """Revoke the session's token (if the request had a live one) and drop the cookie."""
    if token is not None:
        await services.run(services.tokens.revoke, token)
    handler.clear_cookie(SESSION_COOKIE, httponly=True, samesite="Lax", secure=services.settings.api.secure_cookies)
