"""Sign-up, login (bearer tokens), logout and the current user."""

from __future__ import annotations

from api.times import format_instant
from api.users import User
from api.v1.base import ApiHandler
from api.v1.models import AccountDelete, AccountDeletedOut, Credentials, MePatch, TokenOut, UserOut
from api.zones import zone


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, created=format_instant(user.created_us), time_zone=user.time_zone)


class UsersHandler(ApiHandler):
    async def post(self) -> None:
        body = self.body_as(Credentials)
        user = await self.services.run(self.services.users.sign_up, body.email, body.password)
        self.set_header("Location", "/api/v1/me")
        self.send_json(user_out(user), status=201)


class TokensHandler(ApiHandler):
    async def post(self) -> None:
        """Log in. Failed attempts are counted per client address and per address and
        account (`api.login`); past a limit, attempts must wait: until then they are
        refused (429) without checking the password."""
        body = self.body_as(Credentials)
        user = await self.services.login.authenticate(self.request.remote_ip or "?", body.email, body.password)
        issued = await self.services.run(self.services.tokens.issue, user)
        self.send_json(TokenOut(token=issued.token, expires=format_instant(issued.expires_us)), status=201)


class CurrentTokenHandler(ApiHandler):
    async def delete(self) -> None:
        """Log out: the token used for this request stops working."""
        self.current_user_or_401()
        assert self.caller.token is not None
        await self.services.run(self.services.tokens.revoke, self.caller.token)
        self.send_no_content()


class MeHandler(ApiHandler):
    def get(self) -> None:
        self.send_json(user_out(self.current_user_or_401()))

    async def patch(self) -> None:
        """Choose a time zone (null: the browser's)."""
        user = self.current_user_or_401()
        body = self.body_as(MePatch)
        if body.time_zone is not None:
            zone(body.time_zone, "time_zone")
        self.send_json(user_out(await self.services.run(self.services.users.set_time_zone, user, body.time_zone)))

    async def delete(self) -> None:
        """Close the account (password confirmed): its cameras, share links, frames and
        images, sessions and tokens all go (`api.accounts`)."""
        user = self.current_user_or_401()
        body = self.body_as(AccountDelete)
        held = await self.services.run(self.services.accounts.close, user, body.password)
        self.send_json(AccountDeletedOut(cameras=len(held.cameras), frames=held.frames,
                                         share_links=held.share_links))

