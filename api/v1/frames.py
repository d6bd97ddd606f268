"""Frames of a camera: pages by time, the latest, one frame's metadata, and per-hour
counts for a calendar (the JPEG and thumbnail bytes are `api.media`'s). Frames are found
in the index by the camera's upload username; the username itself never appears in
these answers."""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo
from urllib.parse import quote, urlencode

from api.access import CameraAccess
from api.callers import SHARE_PARAMETER
from api.errors import InvalidInput, NotFound
from api.status import clock_offset_us
from api.times import format_instant
from api.v1.base import ApiHandler
from api.v1.models import CalendarOut, DayCount, FrameOut, FramePageOut, FramesDeletedOut, HourCount
from api.zones import day_span_us, local_iso
from sensr.frames import now_us
from sensr.index import HOUR_US, FrameIndex, FramePage, FrameRecord, FrameScore, InvalidCursor

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CALENDAR_DEFAULT_US = 31 * 86_400_000_000
CALENDAR_MAX_US = 366 * 86_400_000_000


def frame_out(frame: FrameRecord, access: CameraAccess, score: FrameScore | None = None) -> FrameOut:
    """A frame's JSON, with its motion `score` (null when not scored). Image links carry
    the share token that opened the camera, so they work as they are (in an <img> tag, too)."""
    base = f"/api/v1/cameras/{access.camera.id}/frames/{quote(frame.frame_id, safe='')}"
    share = f"?{SHARE_PARAMETER}={quote(access.share_token, safe='')}" if access.share_token else ""
    return FrameOut(id=frame.frame_id, camera_id=access.camera.id, timestamp=format_instant(frame.timestamp_us),
                    timestamp_us=frame.timestamp_us, size=frame.size, width=frame.width, height=frame.height,
                    source=frame.source, filename=frame.filename, image_url=f"{base}/image{share}",
                    thumbnail_url=f"{base}/thumbnail{share}", score=None if score is None else score.score,
                    moving=None if score is None else score.moving,
                    **camera_clock(frame))


def frames_out(frames: list[FrameRecord], access: CameraAccess, index: FrameIndex) -> list[FrameOut]:
    """The JSON of several frames of one camera, with their scores (one query). Blocks."""
    scores = index.scores(access.camera.username, [frame.frame_id for frame in frames])
    return [frame_out(frame, access, scores.get(frame.frame_id)) for frame in frames]


def camera_clock(frame: FrameRecord) -> dict[str, str | int | float | None]:
    """The FrameOut fields of the camera's own clock (all null where it gave none)."""
    offset = clock_offset_us(frame)
    if frame.camera_time_us is None or offset is None:
        return {"camera_time": None, "camera_time_us": None, "camera_clock_offset_s": None}
    return {"camera_time": format_instant(frame.camera_time_us).rstrip("Z"), "camera_time_us": frame.camera_time_us,
            "camera_clock_offset_s": offset / 1_000_000}


class FramesHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        """Frames in [since, until), oldest first (`order=desc`: newest first), `limit` per
        page; `cursor` continues a previous page. `moving=true` keeps the frames found
        moving, `min_score` those scored at least that (frames not scored yet are left out
        by either)."""
        access = await self.readable_camera(camera_id)
        since, until = self.instant_argument("since"), self.instant_argument("until")
        limit = self.int_argument("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        order = self.get_query_argument("order", "asc")
        if order not in ("asc", "desc"):
            raise InvalidInput("order must be asc or desc")
        cursor = self.get_query_argument("cursor", None) or None
        moving = self.get_query_argument("moving", "false")
        if moving not in ("true", "false"):
            raise InvalidInput("moving must be true or false")
        min_score = self.score_argument("min_score")
        query = partial(self.services.index.page, access.camera.username, since, until, limit, cursor,
                        descending=order == "desc", min_score=min_score, moving_only=moving == "true")
        frames, page = await self.services.run(self._page, query, access)
        self.send_json(FramePageOut(frames=frames, next_cursor=page.next_cursor,
                                    next=next_url(self, page.next_cursor)))

    def _page(self, query: partial[FramePage], access: CameraAccess) -> tuple[list[FrameOut], FramePage]:
        try:
            page = query()
        except InvalidCursor:
            raise InvalidInput("cursor is not one this API handed out for this listing") from None
        return frames_out(page.frames, access, self.services.index), page

    async def delete(self, camera_id: str) -> None:
        """Delete the camera's frames in [since, until) (both required; the owner only):
        their images first, then their rows."""
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        since, until = self.instant_argument("since"), self.instant_argument("until")
        if since is None or until is None:
            raise InvalidInput("since and until are required: the range of frames to delete")
        if until <= since:
            raise InvalidInput("until must be later than since")
        removed = await self.services.run(self.services.removal.remove_range, camera.username, since, until)
        self.send_json(FramesDeletedOut(deleted=removed))

    def score_argument(self, name: str) -> float | None:
        text = self.get_query_argument(name, None)
        if text is None or text == "":
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not 0 <= value <= 100:
            raise InvalidInput(f"{name} must be a number from 0 to 100")
        return value


def next_url(handler: ApiHandler, cursor: str | None) -> str | None:
    """The URL of the next page of the listing `handler` answers: its query with `cursor`."""
    if cursor is None:
        return None
    query = {name: values[-1].decode() for name, values in handler.request.query_arguments.items()}
    query["cursor"] = cursor
    return f"{handler.request.path}?{urlencode(query)}"


class LatestFrameHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        frame = await self.services.run(self.services.index.latest, access.camera.username)
        if frame is None:
            raise NotFound("this camera has no frames yet")
        self.send_json((await self.services.run(frames_out, [frame], access, self.services.index))[0])


class FrameHandler(ApiHandler):
    async def get(self, camera_id: str, frame_id: str) -> None:
        access = await self.readable_camera(camera_id)
        frame = await self.frame(access, frame_id)
        self.send_json((await self.services.run(frames_out, [frame], access, self.services.index))[0])

    async def delete(self, camera_id: str, frame_id: str) -> None:
        """Delete one frame (the owner only): its images first, then its row."""
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        frame = await self.services.run(self.services.index.get, camera.username, frame_id)
        if frame is None:
            raise NotFound("no such frame")
        await self.services.run(self.services.removal.remove, [frame])
        self.send_no_content()


def local_days(counts: list[tuple[int, int]], zone: ZoneInfo) -> list[DayCount]:
    """Per-hour counts summed by local date in `zone` (each hour by its start), with each
    day's length: 23 or 25 hours when clocks change."""
    per_day: dict[date, int] = {}
    for start, count in counts:
        day = datetime.fromtimestamp(start // 1_000_000, tz=zone).date()
        per_day[day] = per_day.get(day, 0) + count
    days = []
    for day, count in sorted(per_day.items()):
        start, end = day_span_us(day, zone)
        days.append(DayCount(date=day.isoformat(), start=local_iso(start, zone), hours=(end - start) // HOUR_US,
                             count=count))
    return days


class CalendarHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        """Frames, moving frames and motion events per UTC hour in [since, until) (default:
        the last 31 days; at most 366; an empty range has no hours). With `tz` (an IANA
        zone), also frames per local day, and dates or date-times without an offset in
        since and until are in that zone."""
        access = await self.readable_camera(camera_id)
        until, since = self.instant_argument("until"), self.instant_argument("since")
        until = now_us() if until is None else until
        since = until - CALENDAR_DEFAULT_US if since is None else since
        if until - since > CALENDAR_MAX_US:
            raise InvalidInput("a calendar spans at most 366 days")
        counts = await self.services.run(hour_counts, self.services.index, access.camera.username, since, until)
        zone = self.zone_argument()
        hours = [HourCount(start=format_instant(start), start_us=start, count=count, moving_frames=moving,
                           events=events, **({} if zone is None else {"local_start": local_iso(start, zone)}))
                 for start, (count, moving, events) in sorted(counts.items())]
        local = {} if zone is None else {"time_zone": str(zone),
                                         "days": local_days([(hour.start_us, hour.count) for hour in hours], zone)}
        self.send_json(CalendarOut(camera_id=access.camera.id, since=format_instant(since), until=format_instant(until),
                                   total=sum(hour.count for hour in hours), hours=hours, **local))


def hour_counts(index: FrameIndex, camera: str, since_us: int, until_us: int) -> dict[int, tuple[int, int, int]]:
    """(frames, moving frames, events started) per hour start in µs, for the hours in
    [hour of since_us, until_us) that hold any. Blocks."""
    counts = {hour: (frames, 0, 0) for hour, frames in index.hourly_counts(camera, since_us, until_us)}
    for hour, moving, events in index.activity_counts(camera, since_us, until_us):
        counts[hour] = (counts.get(hour, (0, 0, 0))[0], moving, events)
    return counts
