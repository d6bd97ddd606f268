"""The time zone a page shows days and hours in: the user's choice (account page), else
the browser's (app.js keeps it in the `sensr_tz` cookie: Intl's resolved zone), else UTC."""

from __future__ import annotations

from functools import cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import tornado.web

from api.users import User
from api.zones import UTC_NAME, known_zone_set, zone

BROWSER_ZONE_COOKIE = "sensr_tz"


@cache
def known_zones() -> list[str]:
    return sorted(known_zone_set())


def browser_zone_name(handler: tornado.web.RequestHandler) -> str:
    """The browser's zone as app.js reported it, if it is a known one; else UTC."""
    name = unquote(handler.get_cookie(BROWSER_ZONE_COOKIE, "") or "")
    return name if name in known_zone_set() else UTC_NAME


def page_zone(handler: tornado.web.RequestHandler, user: User | None) -> ZoneInfo:
    """The user's zone, else the browser's, else UTC."""
    return zone(user.time_zone if user is not None and user.time_zone else browser_zone_name(handler))
