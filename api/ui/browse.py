"""Reading a camera in the browser: the calendar (days of a month, hours of a day, from
the index's per-hour counts), an hour's thumbnails, the full-size viewer with previous
and next, and the live view. Owners, visitors of public cameras and share-link holders
see the same pages (only owners get the settings tabs).

The images and the live MJPEG stream these pages show are `api.media`'s, routed here with
a browser's callers, so `<img>` tags work for private cameras.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from api.access import CameraAccess
from api.errors import ApiError, NotFound
from api.status import CLOCK_TOLERANCE_US, camera_status, clock_offset_text, clock_offset_us
from api.ui.base import PageHandler
from api.ui.calendar import (
    DAY_US,
    HOUR_US,
    day_hours,
    day_span_us,
    hour_key,
    month,
    month_span_us,
    parse_day,
    parse_hour,
    parse_month,
    to_datetime,
)
from sensr.frames import now_us
from sensr.index import FrameIndex, FrameRecord, hour_start

HOUR_PAGE_FRAMES = 120
NEIGHBOUR_SEARCH_US = 31 * DAY_US  # how far the hour page looks for the previous/next busy hour
_SAME_INSTANT = 32  # frames sharing one microsecond that the viewer steps through correctly


class _CameraPage(PageHandler):
    def render_camera(self, template: str, access: CameraAccess, **values: Any) -> None:
        self.render(template, camera=access.camera, owner=access.is_owner, **values)

    async def may_clip(self, access: CameraAccess) -> bool:
        """Whether the visitor may make this camera's clips (the owner, or a share link that allows them)."""
        try:
            await self.clip_camera(access.camera.id)
        except ApiError:
            return False
        return True


class BrowsePage(_CameraPage):
    """`?month=2026-11` picks the month, `?day=2026-11-25` a day (and its month); by
    default the day of the latest frame."""

    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        username = access.camera.username
        zone = self.zone
        # `latest` before the counts: the page says it counted every frame up to it (calendar.js)
        latest = await self.services.run(self.services.index.latest, username)
        day_text, month_text = self.get_query_argument("day", None), self.get_query_argument("month", None)
        day: date | None = parse_day(day_text) if day_text else None
        if day is not None:
            first = day.replace(day=1)
        elif month_text:
            first = parse_month(month_text)
        else:
            day = to_datetime(latest.timestamp_us if latest else now_us(), zone).date()
            first = day.replace(day=1)
        since, until = month_span_us(first, zone)
        if day is not None:  # a day of the next month shown in the last week: its hours too
            since, until = min(since, day_span_us(day, zone)[0]), max(until, day_span_us(day, zone)[1])
        counts = await self.services.run(self.services.index.hourly_counts, username, since, until)
        calendar = month(first, counts, zone)
        hours = daily = day_start = None
        if day is not None:
            day_start, day_end = day_span_us(day, zone)
            activity = await self.services.run(self.services.index.activity_counts, username, day_start, day_end)
            hours = day_hours(day, counts, zone, activity)
            daily = await self.services.run(self.services.clips.daily, access.camera, day.isoformat())
        status = await self.services.run(camera_status, self.services.index, access.camera, now_us())
        self.render_camera("browse.html", access, title=access.camera.name, latest=latest, calendar=calendar,
                           day=day, hours=hours, status=status, tab="browse", daily=daily, day_start=day_start,
                           clips=await self.may_clip(access))


class HourPage(_CameraPage):
    """An hour's thumbnails in numbered pages (`?page=2`) of HOUR_PAGE_FRAMES: a busy hour
    (3,600 frames at one a second) is 30 pages, each reachable from every other."""

    async def get(self, camera_id: str, hour: str) -> None:
        access = await self.readable_camera(camera_id)
        start = parse_hour(hour)
        username = access.camera.username
        index = self.services.index
        total = await self.services.run(index.count, username, start, start + HOUR_US)
        pages = max(1, math.ceil(total / HOUR_PAGE_FRAMES))
        page = self.page_argument(pages)
        frames = await self.services.run(index.slice, username, start, start + HOUR_US,
                                         (page - 1) * HOUR_PAGE_FRAMES, HOUR_PAGE_FRAMES)
        before = await self.services.run(index.hourly_counts, username, start - NEIGHBOUR_SEARCH_US, start)
        after = await self.services.run(index.hourly_counts, username, start + HOUR_US,
                                        start + HOUR_US + NEIGHBOUR_SEARCH_US)
        self.render_camera("hour.html", access, title=f"{access.camera.name} · {hour_key(start)}", start=start,
                           frames=frames, page=page, pages=pages, total=total,
                           previous_hour=hour_key(before[-1][0]) if before else None,
                           next_hour=hour_key(after[0][0]) if after else None,
                           day=to_datetime(start, self.zone).date(), tab="browse", clips=await self.may_clip(access))

    def page_argument(self, pages: int) -> int:
        text = self.get_query_argument("page", "1")
        if not text.isdigit() or not 1 <= int(text) <= pages:
            raise NotFound(f"This hour has {pages} page{'' if pages == 1 else 's'} of frames.")
        return int(text)


class FramePage(_CameraPage):
    """One frame full size, with links to the previous and next frames of the camera."""

    async def get(self, camera_id: str, frame_id: str) -> None:
        access = await self.readable_camera(camera_id)
        frame = await self.frame(access, frame_id)
        previous, following = await self.services.run(neighbours, self.services.index, frame)
        scores = await self.services.run(self.services.index.scores, frame.camera, [frame.frame_id])
        start = hour_start(frame.timestamp_us)
        before = await self.services.run(self.services.index.count, frame.camera, start, frame.timestamp_us)
        self.render_camera("frame.html", access, title=f"{access.camera.name} · {frame.frame_id}", frame=frame,
                           previous=previous, following=following, hour=hour_key(frame.timestamp_us), hour_start_us=start,
                           hour_page=before // HOUR_PAGE_FRAMES + 1, clock=clock_offset_us(frame),
                           clock_text=clock_offset_text, clock_tolerance=CLOCK_TOLERANCE_US,
                           score=scores.get(frame.frame_id), tab="browse")


class LivePage(_CameraPage):
    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        status = await self.services.run(camera_status, self.services.index, access.camera, now_us())
        self.render_camera("live.html", access, title=f"Live · {access.camera.name}", status=status, tab="live")


def neighbours(index: FrameIndex, frame: FrameRecord) -> tuple[FrameRecord | None, FrameRecord | None]:
    """The frames just before and just after `frame` in the index's order (time, then id).
    Blocks (two index queries)."""
    key = (frame.timestamp_us, frame.frame_id)
    earlier = index.page(frame.camera, until_us=frame.timestamp_us + 1, limit=_SAME_INSTANT, descending=True)
    later = index.page(frame.camera, since_us=frame.timestamp_us, limit=_SAME_INSTANT)
    previous = next((f for f in earlier.frames if (f.timestamp_us, f.frame_id) < key), None)
    following = next((f for f in later.frames if (f.timestamp_us, f.frame_id) > key), None)
    return previous, following
