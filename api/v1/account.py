"""The caller's own account beyond `/me`: a new password, the sessions and tokens that
are signed in (listed, revoked one by one or all at once)."""

from __future__ import annotations

from api.errors import NotFound
from api.times import format_instant
from api.tokens import token_hash, token_id
from api.v1.base import ApiHandler
from api.v1.models import PasswordChange, TokenInfoOut, TokenList


class PasswordChangeHandler(ApiHandler):
    async def post(self) -> None:
        """Change the password; every other session and token ends, this one stays."""
        user = self.current_user_or_401()
        body = self.body_as(PasswordChange)
        await self.services.run(self.services.accounts.change_password, user, body.current_password,
                                body.new_password, self.caller.token)
        self.send_no_content()


class MyTokensHandler(ApiHandler):
    async def get(self) -> None:
        user = self.current_user_or_401()
        mine = token_id(token_hash(self.caller.token or ""))
        tokens = await self.services.run(self.services.tokens.of_user, user)
        self.send_json(TokenList(tokens=[
            TokenInfoOut(id=info.id, kind=info.kind, created=format_instant(info.created_us),
                         expires=format_instant(info.expires_us), current=info.id == mine) for info in tokens]))

    async def delete(self) -> None:
        """Sign out everywhere: every session and token of the user ends, this one too."""
        user = self.current_user_or_401()
        await self.services.run(self.services.tokens.revoke_all, user)
        self.send_no_content()


class MyTokenHandler(ApiHandler):
    async def delete(self, token_id: str) -> None:
        user = self.current_user_or_401()
        if not await self.services.run(self.services.tokens.revoke_id, user, token_id):
            raise NotFound("no such token")
        self.send_no_content()
