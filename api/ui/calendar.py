"""The browsing calendar, built from the index's per-hour frame counts: a month as weeks
of days (Monday first), a day as its hours, in a time zone (the page's: `api.ui.zone`).

A local day runs from one local midnight to the next, so a day when clocks change has 23
or 25 hours, and shows them: the hour repeated when clocks go back is labelled with its
UTC offset. The index counts frames per UTC hour, which are local hours wherever the
offset is whole hours; in the few zones with half- or quarter-hour offsets (India,
Nepal...) an hour's count is that of the UTC hour starting within it.

Months and days travel in URLs as local dates, `2026-11` and `2026-11-25`; an hour as its
UTC start, `2026-11-25T14`, which names one instant even on the day clocks go back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from api.errors import InvalidInput
from api.zones import day_span_us

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
    label: str
    """Local start: `14:00`; `02:00 UTC+01:00` where the day holds that local hour twice."""
    moving: int = 0
    """Frames of the hour found moving."""
    events: int = 0
    """Motion events that started in the hour."""
    activity_level: int = 0
    """0 (no moving frame) to LEVELS, like `level` but for moving frames."""

    @property
    def key(self) -> str:
        return hour_key(self.start_us)


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


def to_datetime(timestamp_us: int, zone: tzinfo = UTC) -> datetime:
    """The instant as an aware date-time in `zone`."""
    return (_EPOCH + timedelta(microseconds=timestamp_us)).astimezone(zone)


def to_us(when: datetime | date, zone: tzinfo = UTC) -> int:
    """An aware date-time, or the local midnight of a date in `zone`, in µs."""
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=zone)
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


def month_span_us(first: date, zone: tzinfo = UTC) -> tuple[int, int]:
    """[start, end) of the month starting on `first` in `zone`, in µs."""
    following = (first + timedelta(days=31)).replace(day=1)
    return to_us(first, zone), to_us(following, zone)


def month(first: date, counts: Iterable[tuple[int, int]], zone: tzinfo = UTC) -> Month:
    """The month of `first` as whole weeks (Monday to Sunday), each day with its frames
    out of `counts` ((hour start µs, frames), as `FrameIndex.hourly_counts` gives)."""
    per_day: dict[date, int] = {}
    for start_us, frames in counts:
        day = to_datetime(start_us, zone).date()
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


def day_hours(day: date, counts: Iterable[tuple[int, int]], zone: tzinfo = UTC,
              activity: Iterable[tuple[int, int, int]] = ()) -> list[Hour]:
    """The hours of `day` in `zone` (23, 24 or 25), each with its frames out of `counts`
    and its moving frames and events out of `activity` ((hour start µs, moving frames,
    events), as `FrameIndex.activity_counts` gives)."""
    start, end = day_span_us(day, zone)
    per_hour: dict[int, int] = {}
    moving: dict[int, tuple[int, int]] = {}
    for hour, frames in counts:
        if start <= hour < end:
            slot = _slot(start, hour)
            per_hour[slot] = per_hour.get(slot, 0) + frames
    for hour, frames, events in activity:
        if start <= hour < end:
            slot = _slot(start, hour)
            before = moving.get(slot, (0, 0))
            moving[slot] = (before[0] + frames, before[1] + events)
    busiest = max(per_hour.values(), default=0)
    liveliest = max((frames for frames, _ in moving.values()), default=0)
    starts = range(start, end, HOUR_US)
    labels = [to_datetime(hour, zone).strftime("%H:%M") for hour in starts]
    repeated = {label for label in labels if labels.count(label) > 1}
    return [Hour(start_us=hour, count=per_hour.get(hour, 0), level=_level(per_hour.get(hour, 0), busiest),
                 label=label if label not in repeated else f"{label} UTC{_offset(hour, zone)}",
                 moving=moving.get(hour, (0, 0))[0], events=moving.get(hour, (0, 0))[1],
                 activity_level=_level(moving.get(hour, (0, 0))[0], liveliest))
            for hour, label in zip(starts, labels)]


def _slot(day_start: int, hour: int) -> int:
    """The local hour holding UTC hour `hour`: the same hour, unless the zone's offset is
    not whole hours."""
    return day_start + (hour - day_start) // HOUR_US * HOUR_US


def _offset(timestamp_us: int, zone: tzinfo) -> str:
    text = to_datetime(timestamp_us, zone).strftime("%z")  # +0100
    return f"{text[:3]}:{text[3:]}"


def _level(count: int, busiest: int) -> int:
    return 0 if count <= 0 or busiest <= 0 else max(1, math.ceil(LEVELS * count / busiest))


def _in_range(day: date) -> date:
    if not 1970 <= day.year <= 9998:
        raise ValueError
    return day
