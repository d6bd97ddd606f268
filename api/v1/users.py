"""Sign-up, login (bearer tokens), logout and the current user."""

from __future__ import annotations

from api.errors import InvalidInput, RateLimited, Unauthorized
from api.times import format_instant
from api.users import User, normalize_email
from api.v1.base import JsonHandler
from api.v1.models import Credentials, TokenOut, UserOut


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, created=format_instant(user.created_us))


class UsersHandler(JsonHandler):
    async def post(self) -> None:
        body = self.body_as(Credentials)
        user = await self.services.run(self.services.users.sign_up, body.email, body.password)
        self.set_header("Location", "/api/v1/me")
        self.send_json(user_out(user), status=201)


class TokensHandler(JsonHandler):
    async def post(self) -> None:
        """Log in. Failed attempts are counted per client address and per address and
        account (`api.throttle`); past a limit, attempts must wait: until then they are
        refused (429) without checking the password."""
        body = self.body_as(Credentials)
        address, account = self.request.remote_ip or "?", _account_key(body.email)
        throttle = self.services.throttle
        wait = throttle.retry_after(address, account)
        if wait > 0:
            raise RateLimited("too many failed logins; try again later", retry_after=wait)
        user = await self.services.run(self.services.users.authenticate, body.email, body.password)
        if user is None:
            throttle.failed(address, account)
            raise Unauthorized("wrong e-mail address or password")
        throttle.succeeded(address, account)
        issued = await self.services.run(self.services.tokens.issue, user)
        self.send_json(TokenOut(token=issued.token, expires=format_instant(issued.expires_us)), status=201)


class CurrentTokenHandler(JsonHandler):
    async def delete(self) -> None:
        """Log out: the token used for this request stops working."""
        self.current_user_or_401()
        assert self.bearer_token is not None
        await self.services.run(self.services.tokens.revoke, self.bearer_token)
        self.send_no_content()


class MeHandler(JsonHandler):
    def get(self) -> None:
        self.send_json(user_out(self.current_user_or_401()))


def _account_key(email: str) -> str:
    try:
        return normalize_email(email)
    except InvalidInput:
        return email.strip().lower()
