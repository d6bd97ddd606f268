"""Frames of a camera: pages by time, the latest, one frame's metadata, and per-hour
counts for a calendar (the JPEG and thumbnail bytes are `api.media`'s). Frames are found
in the index by the camera's upload username; the username itself never appears in
these answers."""

from __future__ import annotations

from functools import partial
from urllib.parse import quote, urlencode

from api.access import CameraAccess
from api.callers import SHARE_PARAMETER
from api.errors import InvalidInput, NotFound
from api.status import clock_offset_us
from api.times import format_instant
from api.v1.base import ApiHandler
from api.v1.models import CalendarOut, FrameOut, FramePageOut, HourCount
from sensr.frames import now_us
from sensr.index import FrameRecord, InvalidCursor

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CALENDAR_DEFAULT_US = 31 * 86_400_000_000
CALENDAR_MAX_US = 366 * 86_400_000_000


def frame_out(frame: FrameRecord, access: CameraAccess) -> FrameOut:
    """A frame's JSON. Image links carry the share token that opened the camera, so they
    work as they are (in an <img> tag, too)."""
    base = f"/api/v1/cameras/{access.camera.id}/frames/{quote(frame.frame_id, safe='')}"
    share = f"?{SHARE_PARAMETER}={quote(access.share_token, safe='')}" if access.share_token else ""
    return FrameOut(id=frame.frame_id, camera_id=access.camera.id, timestamp=format_instant(frame.timestamp_us),
                    timestamp_us=frame.timestamp_us, size=frame.size, width=frame.width, height=frame.height,
                    source=frame.source, filename=frame.filename, image_url=f"{base}/image{share}",
                    thumbnail_url=f"{base}/thumbnail{share}", **camera_clock(frame))


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
        page; `cursor` continues a previous page."""
        access = await self.readable_camera(camera_id)
        since, until = self.instant_argument("since"), self.instant_argument("until")
        limit = self.int_argument("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        order = self.get_query_argument("order", "asc")
        if order not in ("asc", "desc"):
            raise InvalidInput("order must be asc or desc")
        cursor = self.get_query_argument("cursor", None) or None
        query = partial(self.services.index.page, access.camera.username, since, until, limit, cursor,
                        descending=order == "desc")
        try:
            page = await self.services.run(query)
        except InvalidCursor:
            raise InvalidInput("cursor is not one this API handed out for this listing") from None
        self.send_json(FramePageOut(frames=[frame_out(frame, access) for frame in page.frames],
                                    next_cursor=page.next_cursor, next=self._next_url(page.next_cursor)))

    def _next_url(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        query = {name: values[-1].decode() for name, values in self.request.query_arguments.items()}
        query["cursor"] = cursor
        return f"{self.request.path}?{urlencode(query)}"


class LatestFrameHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        frame = await self.services.run(self.services.index.latest, access.camera.username)
        if frame is None:
            raise NotFound("this camera has no frames yet")
        self.send_json(frame_out(frame, access))


class FrameHandler(ApiHandler):
    async def get(self, camera_id: str, frame_id: str) -> None:
        access = await self.readable_camera(camera_id)
        self.send_json(frame_out(await self.frame(access, frame_id), access))


class CalendarHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        """Frames per UTC hour in [since, until) (default: the last 31 days; at most 366;
        an empty range has no hours)."""
        access = await self.readable_camera(camera_id)
        until, since = self.instant_argument("until"), self.instant_argument("since")
        until = now_us() if until is None else until
        since = until - CALENDAR_DEFAULT_US if since is None else since
        if until - since > CALENDAR_MAX_US:
            raise InvalidInput("a calendar spans at most 366 days")
        counts = await self.services.run(self.services.index.hourly_counts, access.camera.username, since, until)
        hours = [HourCount(start=format_instant(start), start_us=start, count=count) for start, count in counts]
        self.send_json(CalendarOut(camera_id=access.camera.id, since=format_instant(since), until=format_instant(until),
                                   total=sum(hour.count for hour in hours), hours=hours))
