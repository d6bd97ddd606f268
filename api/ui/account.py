"""The account page: the time zone days and hours are shown in, a new password (which
ends every other session and token), signing out everywhere, the sessions and API tokens
that are signed in (each revocable), and closing the account after a page that says what
will be deleted. The work is `api.accounts`' and `api.tokens`'."""

from __future__ import annotations

from api.errors import ApiError, InvalidInput, NotFound
from api.sessions import end_session
from api.tokens import token_hash, token_id
from api.ui.base import PageHandler
from api.ui.zone import known_zones
from api.zones import zone


class AccountPage(PageHandler):
    async def get(self) -> None:
        await self.render_page()

    async def render_page(self, error: str | None = None) -> None:
        user = self.require_user()
        tokens = await self.services.run(self.services.tokens.of_user, user)
        current = token_id(token_hash(self.caller.token or ""))
        self.render("account.html", title="Account", tokens=tokens, current=current, zones=known_zones(),
                    error=error, min_length=self.services.settings.api.min_password_length)


class PasswordAction(AccountPage):
    async def post(self) -> None:
        user = self.require_user()
        current, new = self.get_body_argument("current_password", ""), self.get_body_argument("new_password", "")
        try:
            await self.services.run(self.services.accounts.change_password, user, current, new, self.caller.token)
        except InvalidInput as error:
            self.set_status(error.status)
            await self.render_page(error=error.message + ".")
            return
        self.redirect("/account?done=password-changed")


class TimeZoneAction(PageHandler):
    async def post(self) -> None:
        user = self.require_user()
        name = self.get_body_argument("time_zone", "").strip() or None
        if name is not None:
            zone(name, "time_zone")
        await self.services.run(self.services.users.set_time_zone, user, name)
        self.redirect("/account?done=time-zone")


class SignOutEverywhereAction(PageHandler):
    async def post(self) -> None:
        user = self.require_user()
        await self.services.run(self.services.tokens.revoke_all, user)
        await end_session(self, self.services, None)
        self.redirect("/login?done=signed-out-everywhere")


class RevokeTokenAction(PageHandler):
    async def post(self, token_id: str) -> None:
        user = self.require_user()
        if not await self.services.run(self.services.tokens.revoke_id, user, token_id):
            raise NotFound("no such session or token")
        self.redirect("/account?done=token-revoked")


class CloseAccountPage(PageHandler):
    async def get(self) -> None:
        await self._page()

    async def post(self) -> None:
        user = self.require_user()
        try:
            await self.services.run(self.services.accounts.close, user, self.get_body_argument("password", ""))
        except ApiError as error:
            self.set_status(error.status)
            await self._page(error=error.message + ".")
            return
        await end_session(self, self.services, None)
        self.redirect("/login?done=account-deleted")

    async def _page(self, error: str | None = None) -> None:
        user = self.require_user()
        held = await self.services.run(self.services.accounts.holdings, user)
        self.render("account_delete.html", title="Delete account", held=held, error=error)
