"""Who makes a request: the one caller resolver of both surfaces.

A request may carry three kinds of credentials: a bearer token (`Authorization: Bearer
<token>`, from `POST /api/v1/tokens`), a session cookie (`api.sessions`, from the web
UI's login form) and a share link's token (read access to one camera). Each surface
accepts its own set, and the resolver turns them into a `Caller` for `api.access`:

- The JSON API (`CallerResolver.api_caller`): a bearer token, and a share token as the
  `share` query parameter or the `X-Sensr-Share` header. A bearer token that is malformed,
  wrong, expired or revoked is refused (401) even on routes that need no login, so a
  client learns at once that it must log in again. It reads no cookie: a browser sends
  cookies on its own, and the API has no CSRF check.
- The web UI (`CallerResolver.browser_caller`), with the images and the live view its
  pages load: the session cookie (a missing, forged, expired or revoked one is simply no
  login) and a share token as the `share` query parameter, which the pages carry on in
  their links.

Handlers call one of the two in `prepare()` (`api.handlers.ServiceHandler`) and set
Tornado's `current_user` from the answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import tornado.web

from api.access import Caller
from api.errors import Unauthorized
from api.services import Services
from api.sessions import session_token

SHARE_PARAMETER = "share"
SHARE_HEADER = "X-Sensr-Share"

Resolve = Callable[[tornado.web.RequestHandler], Awaitable[Caller]]
"""How one surface finds out who makes a request: `CallerResolver.api_caller` or
`CallerResolver.browser_caller`."""


class CallerResolver:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def api_caller(self, handler: tornado.web.RequestHandler) -> Caller:
        """The caller of a JSON API request (see the module docstring); raises Unauthorized
        for a bearer token that opens nothing."""
        request = handler.request
        share = handler.get_query_argument(SHARE_PARAMETER, None) or request.headers.get(SHARE_HEADER)
        authorization = request.headers.get("Authorization")
        if authorization is None:
            return Caller(share_token=share or None)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be `Bearer <token>`")
        user = await self._services.run(self._services.tokens.user_for, token.strip())
        if user is None:
            raise Unauthorized("the token is invalid, expired or revoked; log in again")
        return Caller(user=user, share_token=share or None, token=token.strip())

    async def browser_caller(self, handler: tornado.web.RequestHandler) -> Caller:
        """The caller of a web UI request, or of an image or live view one of its pages
        loads (see the module docstring)."""
        share = handler.get_query_argument(SHARE_PARAMETER, None) or None
        token = session_token(handler, self._services.settings)
        user = None if token is None else await self._services.run(self._services.tokens.user_for, token)
        return Caller(user=user, share_token=share, token=token if user is not None else None)
