"""Motion events of a camera (written to the index by the activity worker): pages by
start time, newest first by default, and one event with its frames. Read access is the
frame routes' (owner, public, share link); events are found by the camera's upload
username, which never appears in these answers."""

from __future__ import annotations

from functools import partial
from urllib.parse import quote, urlencode

from api.access import CameraAccess
from api.callers import SHARE_PARAMETER
from api.errors import InvalidInput, NotFound
from api.times import format_instant
from api.v1.base import ApiHandler
from api.v1.frames import frames_out, next_url
from api.v1.models import EventDetailOut, EventOut, EventPageOut
from sensr.activity import Event
from sensr.index import EventPage, FrameIndex, InvalidCursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
DEFAULT_FRAMES = 500
MAX_FRAMES = 1000


def event_out(event: Event, ended: bool, access: CameraAccess) -> EventOut:
    """An event's JSON; its links carry the share token that opened the camera."""
    camera = f"/api/v1/cameras/{access.camera.id}"
    share = f"?{SHARE_PARAMETER}={quote(access.share_token, safe='')}" if access.share_token else ""
    key = f"{camera}/frames/{quote(event.key_frame_id, safe='')}"
    return EventOut(id=event.event_id, camera_id=access.camera.id, start=format_instant(event.start_us),
                    start_us=event.start_us, end=format_instant(event.end_us), end_us=event.end_us, ended=ended,
                    frame_count=event.frame_count, moving_frames=event.moving_frames, peak_score=event.peak_score,
                    key_frame_id=event.key_frame_id, key_frame_url=f"{key}/image{share}",
                    key_thumbnail_url=f"{key}/thumbnail{share}",
                    url=f"{camera}/motion-events/{quote(event.event_id, safe='')}{share}")


class MotionEventsHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        """Events that start in [since, until), newest first (`order=asc`: oldest first),
        `limit` per page; `cursor` continues a previous page."""
        access = await self.readable_camera(camera_id)
        since, until = self.instant_argument("since"), self.instant_argument("until")
        limit = self.int_argument("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        order = self.get_query_argument("order", "desc")
        if order not in ("asc", "desc"):
            raise InvalidInput("order must be asc or desc")
        cursor = self.get_query_argument("cursor", None) or None
        query = partial(self.services.index.events_page, access.camera.username, since, until, limit, cursor,
                        descending=order == "desc")
        page = await self.services.run(_events_page, query)
        self.send_json(EventPageOut(events=[event_out(stored.event, stored.ended, access) for stored in page.events],
                                    next_cursor=page.next_cursor, next=next_url(self, page.next_cursor)))


class MotionEventHandler(ApiHandler):
    async def get(self, camera_id: str, event_id: str) -> None:
        """The event and its frames (every frame of the camera from its start to its end,
        oldest first, at most `limit`; `frames_next` continues them)."""
        access = await self.readable_camera(camera_id)
        limit = self.int_argument("limit", DEFAULT_FRAMES, 1, MAX_FRAMES)
        self.send_json(await self.services.run(self._detail, access, event_id, limit))

    def _detail(self, access: CameraAccess, event_id: str, limit: int) -> EventDetailOut:
        index: FrameIndex = self.services.index
        stored = index.get_event(access.camera.username, event_id)
        if stored is None:
            raise NotFound("no such event")
        event = stored.event
        page = index.page(access.camera.username, event.start_us, event.end_us + 1, limit)
        more = None
        if page.next_cursor is not None:
            query = {"since": format_instant(event.start_us), "until": format_instant(event.end_us + 1),
                     "limit": str(limit), "cursor": page.next_cursor}
            if access.share_token:
                query[SHARE_PARAMETER] = access.share_token
            more = f"/api/v1/cameras/{access.camera.id}/frames?{urlencode(query)}"
        return EventDetailOut(event=event_out(event, stored.ended, access),
                              frames=frames_out(page.frames, access, index), frames_next=more)


def _events_page(query: partial[EventPage]) -> EventPage:
    try:
        return query()
    except InvalidCursor:
        raise InvalidInput("cursor is not one this API handed out for this listing") from None
