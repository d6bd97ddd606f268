"""What every handler of API v1 shares beyond `api.handlers.JsonHandler`: the login a
route needs, query parameters and request bodies validated against their models.

Who the caller is comes from `api.callers.CallerResolver.api_caller`: a bearer token,
a share link's token.
"""

from __future__ import annotations

from datetime import UTC
from typing import TypeVar
from zoneinfo import ZoneInfo

import pydantic

from api.errors import InvalidInput, NotFound, Unauthorized
from api.handlers import JsonHandler
from api.times import parse_instant
from api.users import User
from api.zones import zone

M = TypeVar("M", bound=pydantic.BaseModel)


class ApiHandler(JsonHandler):
    def current_user_or_401(self) -> User:
        user: User | None = self.current_user
        if user is None:
            raise Unauthorized("log in first: send `Authorization: Bearer <token>` (POST /api/v1/tokens)")
        return user

    def instant_argument(self, name: str) -> int | None:
        """A query parameter holding an instant (see `api.times`; without an offset it is
        in the `tz` parameter's zone), in µs; None if absent."""
        text = self.get_query_argument(name, None)
        return None if text is None or text == "" else parse_instant(text, name, self.zone_argument() or UTC)

    def zone_argument(self) -> ZoneInfo | None:
        """The `tz` parameter's time zone (an IANA name), None if absent."""
        name = self.get_query_argument("tz", None)
        return None if not name else zone(name)

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


class NotFoundHandler(ApiHandler):
    """Any other path under /api/v1: a JSON 404 rather than Tornado's HTML page."""

    async def prepare(self) -> None:
        raise NotFound("no such route; see /api/v1/openapi.json")


def _describe(error: pydantic.ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        problems.append(f"{where}: {problem['msg']}")
    return "; ".join(problems) or "the request body is not valid JSON"
