"""The time zone a page shows days and hours in: the user's choice (account page), else
the browser's (app.js keeps it in the `sensr_tz` cookie: Intl's resolved zone), else UTC.

Scripts draw times in the same zone: the page names it (`<html data-zone>`) with the
abbreviations the server writes for it (`data-zone-names`, by UTC offset), so a time a
script draws reads as the server's own (`2026-03-08 03:00:00 EDT`), not as the browser's
locale would name it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, tzinfo
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


@cache
def zone_names(zone: tzinfo, year: int) -> str:
    """JSON of the abbreviations `zone` uses from the year before `year` to the one after,
    by UTC offset in minutes: `{"-300": "EST", "-240": "EDT"}`."""
    names: dict[str, str] = {}
    moment = datetime(year - 1, 1, 1, tzinfo=UTC)
    while moment.year <= year + 1:  # twice a day: no offset of a zone lasts less
        local = moment.astimezone(zone)
        offset = local.utcoffset() or timedelta(0)
        names.setdefault(str(int(offset.total_seconds() // 60)), local.strftime("%Z"))
        moment += timedelta(hours=12)
    return json.dumps(names, sort_keys=True)
