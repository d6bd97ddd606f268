"""What every JSON handler shares: who the caller is, request bodies validated against
their models, and errors as `{"error": code, "message": text}`.

Credentials: `Authorization: Bearer <token>` for users; a share link's token as the
`share` query parameter or the `X-Sensr-Share` header. A bearer token that is wrong,
expired or revoked is refused (401) even on routes that need no login, so a client
learns at once that it must log in again.
"""

from __future__ import annotations

import http
import json
import math
from typing import Any, TypeVar

import pydantic
import tornado.web

from api.access import Caller
from api.errors import ApiError, InvalidInput, NotFound, RateLimited, Unauthorized
from api.services import Services
from api.text import is_plain
from api.times import parse_instant
from api.users import User

M = TypeVar("M", bound=pydantic.BaseModel)
SHARE_HEADER = "X-Sensr-Share"
SHARE_PARAMETER = "share"


class JsonHandler(tornado.web.RequestHandler):
    services: Services

    def initialize(self, services: Services) -> None:
        self.services = services
        self.caller = Caller()
        self._bearer: str | None = None

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")  # responses may carry upload passwords
        self.set_header("X-Content-Type-Options", "nosniff")

    def check_xsrf_cookie(self) -> None:
        """No CSRF check: this API reads no cookies, and a bearer token or share token is
        never sent by a browser on its own."""

    async def prepare(self) -> None:
        if not all(is_plain(value) for value in self.path_kwargs.values()):
            raise NotFound("no such resource")  # no id holds a control character
        share = self.get_query_argument(SHARE_PARAMETER, None) or self.request.headers.get(SHARE_HEADER)
        user: User | None = None
        authorization = self.request.headers.get("Authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("the Authorization header must be `Bearer <token>`")
            self._bearer = token.strip()
            user = await self.services.run(self.services.tokens.user_for, self._bearer)
            if user is None:
                raise Unauthorized("the token is invalid, expired or revoked; log in again")
        self.caller = Caller(user=user, share_token=share or None)

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The HTTP methods this handler implements."""
        return [method for method in cls.SUPPORTED_METHODS
                if getattr(cls, method.lower()) is not getattr(tornado.web.RequestHandler, method.lower())]

    def current_user_or_401(self) -> User:
        if self.caller.user is None:
            raise Unauthorized("log in first: send `Authorization: Bearer <token>` (POST /api/v1/tokens)")
        return self.caller.user

    def instant_argument(self, name: str) -> int | None:
        """A query parameter holding an instant (see `api.times`), in µs; None if absent."""
        text = self.get_query_argument(name, None)
        return None if text is None or text == "" else parse_instant(text, name)

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        text = self.get_query_argument(name, None)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise InvalidInput(f"{name} must be an integer") from None
        if not low <= value <= high:
            raise InvalidInput(f"{name} must be between {low} and {high}")
        return value

    @property
    def bearer_token(self) -> str | None:
        return self._bearer

    def body_as(self, model: type[M], *, optional: bool = False) -> M:
        """The JSON request body validated against `model` (an empty body is `{}` when
        `optional`). Raises InvalidInput naming what is wrong."""
        raw = self.request.body
        if not raw.strip() and optional:
            raw = b"{}"
        try:
            return model.model_validate_json(raw)
        except pydantic.ValidationError as error:
            raise InvalidInput(_describe(error)) from None

    def send_json(self, body: pydantic.BaseModel | dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        if isinstance(body, pydantic.BaseModel):
            self.finish(body.model_dump_json(exclude_unset=True))
        else:
            self.finish(json.dumps(body))

    def send_no_content(self) -> None:
        self.set_status(204)
        self.clear_header("Content-Type")
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, ApiError):
            code, message = error.code, error.message
            if isinstance(error, RateLimited):
                self.set_header("Retry-After", str(max(1, math.ceil(error.retry_after))))
        elif status_code >= 500:
            code, message = "internal_error", "the server failed to handle the request; it has been logged"
        else:  # Tornado's own: 404 of an unknown route, 405, a malformed request
            try:
                phrase = http.HTTPStatus(status_code).phrase
            except ValueError:
                phrase = "Error"
            code, message = phrase.lower().replace(" ", "_").replace("-", "_"), phrase
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="sensr"')
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        self.finish(json.dumps({"error": code, "message": message}))


class NotFoundHandler(JsonHandler):
    """Any other path under /api/v1: a JSON 404 rather than Tornado's HTML page."""

    async def prepare(self) -> None:
        raise NotFound("no such route; see /api/v1/openapi.json")


def _describe(error: pydantic.ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        problems.append(f"{where}: {problem['msg']}")
    return "; ".join(problems) or "the request body is not valid JSON"
