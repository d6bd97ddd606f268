"""Time zones: a user's chosen one, or one named in a request (`tz`), by IANA name
(`Europe/Berlin`), checked against the zones this machine knows."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from api.errors import InvalidInput

UTC_NAME = "UTC"


@cache
def known_zone_set() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str, parameter: str = "tz") -> ZoneInfo:
    """The zone called `name`; raises InvalidInput naming `parameter` for anything else."""
    if name not in known_zone_set():
        raise InvalidInput(f"{parameter} must be an IANA time zone name such as Europe/Berlin or UTC")
    return ZoneInfo(name)


def day_span_us(day: date, zone: tzinfo) -> tuple[int, int]:
    """[local midnight, next local midnight) of `day` in `zone`, in µs since the epoch:
    23, 24 or 25 hours long."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), start.timetz())
    return int(start.timestamp()) * 1_000_000, int(end.timestamp()) * 1_000_000


def local_iso(timestamp_us: int, zone: tzinfo) -> str:
    """ISO 8601 in `zone` with its offset: `2026-10-25T02:00:00+01:00` (µs where not zero)."""
    moment = datetime.fromtimestamp(timestamp_us // 1_000_000, tz=zone).replace(microsecond=timestamp_us % 1_000_000)
    return moment.isoformat()
