"""The browsing calendar, built from the index's per-hour frame counts: a month as weeks
of days (Monday first), a day as its 24 hours. All in UTC, like the index's hours.

Dates travel in URLs as `2026-11` (month), `2026-11-25` (day) and `2026-11-25T14` (hour).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from api.errors import InvalidInput

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
LEVELS = 4  # shades of a busy day or hour, 1..LEVELS (0: no frames)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_HOUR = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Day:
    date: date
    count: int
    level: int
    in_month: bool

    @property
    def key(self) -> str:
        return self.date.isoformat()


@dataclass(frozen=True, slots=True)
class Hour:
    start_us: int
    count: int
    level: int
    moving: int = 0
    """Frames of the hour found moving."""
    events: int = 0
    """Motion events that started in the hour."""
    activity_level: int = 0
    """0 (no moving frame) to LEVELS, like `level` but for moving frames."""

    @property
    def key(self) -> str:
        return hour_key(self.start_us)

    @property
    def label(self) -> str:
        return f"{to_datetime(self.start_us).hour:02d}:00"


@dataclass(frozen=True, slots=True)
class Month:
    first: date
    weeks: list[list[Day]]
    total: int

    @property
    def key(self) -> str:
        return self.first.strftime("%Y-%m")

    @property
    def title(self) -> str:
        return self.first.strftime("%B %Y")

    @property
    def previous(self) -> str:
        return (self.first - timedelta(days=1)).strftime("%Y-%m")

    @property
    def next(self) -> str:
        return (self.first + timedelta(days=31)).strftime("%Y-%m")


def to_datetime(timestamp_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=timestamp_us)


def to_us(when: datetime | date) -> int:
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=UTC)
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def hour_key(start_us: int) -> str:
    return to_datetime(start_us).strftime("%Y-%m-%dT%H")


def parse_month(text: str) -> date:
    match = _MONTH.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        return _in_range(date(int(match[1]), int(match[2]), 1))
    except ValueError:
        raise InvalidInput("month must look like 2026-11") from None


def parse_day(text: str) -> date:
    match = _DAY.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        return _in_range(date(int(match[1]), int(match[2]), int(match[3])))
    except ValueError:
        raise InvalidInput("day must look like 2026-11-25") from None


def parse_hour(text: str) -> int:
    """The start of the hour `2026-11-25T14`, in µs."""
    match = _HOUR.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        day = _in_range(date(int(match[1]), int(match[2]), int(match[3])))
        return to_us(datetime(day.year, day.month, day.day, int(match[4]), tzinfo=UTC))
    except ValueError:
        raise InvalidInput("the hour must look like 2026-11-25T14") from None


def month_span_us(first: date) -> tuple[int, int]:
    """[start, end) of the month starting on `first`, in µs."""
    following = (first + timedelta(days=31)).replace(day=1)
    return to_us(first), to_us(following)


def month(first: date, counts: Iterable[tuple[int, int]]) -> Month:
    """The month of `first` as whole weeks (Monday to Sunday), each day with its frames
    out of `counts` ((hour start µs, frames), as `FrameIndex.hourly_counts` gives)."""
    per_day: dict[date, int] = {}
    for start_us, frames in counts:
        day = to_datetime(start_us).date()
        per_day[day] = per_day.get(day, 0) + frames
    in_month = {day: n for day, n in per_day.items() if (day.year, day.month) == (first.year, first.month)}
    busiest = max(in_month.values(), default=0)
    start = first - timedelta(days=first.weekday())
    weeks: list[list[Day]] = []
    day = start
    while True:
        week = []
        for _ in range(7):
            count = in_month.get(day, 0)
            week.append(Day(date=day, count=count, level=_level(count, busiest),
                            in_month=(day.year, day.month) == (first.year, first.month)))
            day += timedelta(days=1)
        weeks.append(week)
        if (day.year, day.month) != (first.year, first.month):
            break
    return Month(first=first, weeks=weeks, total=sum(in_month.values()))


def day_hours(day: date, counts: Iterable[tuple[int, int]],
              activity: Iterable[tuple[int, int, int]] = ()) -> list[Hour]:
    """The 24 hours of `day`, each with its frames out of `counts` and its moving frames and
    events out of `activity` ((hour start µs, moving frames, events), as
    `FrameIndex.activity_counts` gives)."""
    start = to_us(day)
    per_hour = {hour: frames for hour, frames in counts if start <= hour < start + DAY_US}
    moving = {hour: (frames, events) for hour, frames, events in activity if start <= hour < start + DAY_US}
    busiest = max(per_hour.values(), default=0)
    liveliest = max((frames for frames, _ in moving.values()), default=0)
    return [Hour(start_us=hour, count=per_hour.get(hour, 0), level=_level(per_hour.get(hour, 0), busiest),
                 moving=moving.get(hour, (0, 0))[0], events=moving.get(hour, (0, 0))[1],
                 activity_level=_level(moving.get(hour, (0, 0))[0], liveliest))
            for hour in range(start, start + DAY_US, HOUR_US)]


def _level(count: int, busiest: int) -> int:
    return 0 if count <= 0 or busiest <= 0 else max(1, math.ceil(LEVELS * count / busiest))


def _in_range(day: date) -> date:
    if not 1970 <= day.year <= 9998:
        raise ValueError
    return day
