"""The web UI's own JSON, for its scripts (status, timeline, viewer): compact, with the
web UI's image URLs (which the session cookie or share link opens), over the browser's
callers. The JSON API (`api.v1`) answers the same questions for other clients in its own
shapes; both read the same application layer (`api.status`, `api.timeline`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from api.access import CameraAccess
from api.callers import SHARE_PARAMETER
from api.errors import InvalidInput, NotFound
from api.handlers import JsonHandler
from api.status import camera_status, clock_offset_us
from api.timeline import span_buckets, span_events, span_moving
from api.times import format_instant, parse_instant
from sensr.frames import now_us
from sensr.index import FrameRecord, StoredEvent

MAX_FRAMES = 200


def frame_json(record: FrameRecord, access: CameraAccess) -> dict[str, Any]:
    """A frame as the web UI's scripts read it."""
    base = f"/cameras/{access.camera.id}/frames/{quote(record.frame_id, safe='')}"
    share = f"?{SHARE_PARAMETER}={quote(access.share_token, safe='')}" if access.share_token else ""
    offset = clock_offset_us(record)
    return {"camera_id": access.camera.id, "id": record.frame_id, "timestamp_us": record.timestamp_us,
            "width": record.width, "height": record.height, "size": record.size, "source": record.source,
            "filename": record.filename, "camera_time_us": record.camera_time_us,
            "camera_time": None if record.camera_time_us is None else format_instant(record.camera_time_us).rstrip("Z"),
            "camera_clock_offset_s": None if offset is None else offset / 1_000_000,
            "thumbnail_url": f"{base}/thumbnail{share}", "image_url": f"{base}/image{share}", "page_url": base + share}


def event_json(stored: StoredEvent, key_frame_us: int | None) -> dict[str, Any]:
    """A motion event as the timeline draws it: its span and the key frame a click shows
    (`key_frame_us` None: that frame is gone)."""
    event = stored.event
    return {"id": event.event_id, "start_us": event.start_us, "end_us": event.end_us, "ended": stored.ended,
            "frame_count": event.frame_count, "moving_frames": event.moving_frames, "peak_score": event.peak_score,
            "key_frame_id": event.key_frame_id, "key_frame_us": key_frame_us}


class _DataHandler(JsonHandler):
    def instant(self, name: str) -> int | None:
        text = self.get_query_argument(name, None)
        return None if not text else parse_instant(text, name)

    def required_instant(self, name: str) -> int:
        value = self.instant(name)
        if value is None:
            raise InvalidInput(f"{name} is required")
        return value

    def number(self, name: str, default: int, low: int, high: int) -> int:
        text = self.get_query_argument(name, None) or str(default)
        if not text.isdigit() or not low <= int(text) <= high:
            raise InvalidInput(f"{name} must be a whole number from {low} to {high}")
        return int(text)


class StatusData(_DataHandler):
    """`status.json`: the camera's status now."""

    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        status = await self.services.run(camera_status, self.services.index, access.camera, now_us())
        self.send_json({"camera_id": access.camera.id, "state": status.state,
                        "offline_minutes": status.offline_minutes, "frames_last_hour": status.frames_last_hour,
                        "last_frame": frame_json(status.latest, access) if status.latest else None})


class TimelineData(_DataHandler):
    """`timeline.json?since=&until=&step=`: the span's density, its frames found moving
    per bucket and its motion events (see `api.timeline`)."""

    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        since, until = self.required_instant("since"), self.required_instant("until")
        step = self.number("step", 60, 1, 86_400)
        camera, index = access.camera.username, self.services.index
        total, buckets = await self.services.run(span_buckets, index, camera, since, until, step)
        moving = await self.services.run(span_moving, index, camera, since, until, step)
        events = await self.services.run(span_events, index, camera, since, until)
        self.send_json({"since_us": since, "until_us": until, "step_s": step, "total": total, "buckets": buckets,
                        "moving": moving, "more_events": events.more,
                        "events": [event_json(stored, events.key_frame_us.get(stored.event.key_frame_id))
                                   for stored in events.events]})


class FrameAtData(_DataHandler):
    """`timeline/frame.json?at=`: the frame shown at an instant."""

    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        frame = await self.services.run(self.services.index.frame_at, access.camera.username,
                                        self.required_instant("at"))
        if frame is None:
            raise NotFound("This camera has no frames yet.")
        self.send_json(frame_json(frame, access))


class FramesData(_DataHandler):
    """`frames.json?since=&until=&order=&limit=`: frames around the one shown."""

    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        order = self.get_query_argument("order", "asc")
        if order not in ("asc", "desc"):
            raise InvalidInput("order must be asc or desc")
        since, until, limit = self.instant("since"), self.instant("until"), self.number("limit", 40, 1, MAX_FRAMES)
        page = await self.services.run(lambda: self.services.index.page(
            access.camera.username, since, until, limit, descending=order == "desc"))
        self.send_json({"frames": [frame_json(frame, access) for frame in page.frames]})
