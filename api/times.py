"""Instants in query parameters and responses.

A parameter such as `since` or `until` is either an ISO 8601 date-time
(`2026-11-25T14:30:00Z`, `2026-11-25T15:30:00+01:00`; no offset means UTC, or the
request's `tz` where it names one) or a date (`2026-11-25`, midnight UTC or in `tz`), or
seconds since the Unix epoch (`1795617000`, fractions allowed: `1795617000.25`). Inside, instants are integer microseconds since the epoch,
like frame timestamps; responses give both an ISO 8601 UTC string and the microseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from api.errors import InvalidInput

_EPOCH_SECONDS = re.compile(r"\d+(\.\d+)?")
_MAX_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


def parse_instant(text: str, name: str, zone: tzinfo = UTC) -> int:
    """Microseconds since the epoch; a date or date-time without offset is in `zone`.
    Raises InvalidInput naming the parameter `name`."""
    text = text.strip()
    if _EPOCH_SECONDS.fullmatch(text):
        integer, _, fraction = text.partition(".")
        micros = int(integer) * 1_000_000 + int((fraction + "000000")[:6])  # exact: no float rounding
        if micros > _MAX_US:
            raise InvalidInput(f"{name} is out of range")
        return micros
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO 8601 date-time (2026-11-25T14:30:00Z) "
                           "or seconds since the epoch") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    try:
        delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    except OverflowError:
        raise InvalidInput(f"{name} is out of range") from None
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not 0 <= micros <= _MAX_US:
        raise InvalidInput(f"{name} is out of range")
    return micros


def format_instant(timestamp_us: int) -> str:
    """ISO 8601 in UTC with microseconds and a `Z`: `2026-11-25T14:30:00.123456Z`."""
    when = datetime.fromtimestamp(timestamp_us // 1_000_000, tz=UTC)
    return when.replace(microsecond=timestamp_us % 1_000_000).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
