"""A clip's MP4 and its progress stream, served alike to both surfaces (the JSON API under `/api/v1/cameras/...`,
the web UI's `<video>` under `/cameras/...` with the session cookie), streamed from the
bucket with single byte-range requests (`Range: bytes=a-b`, answered 206), which is what
lets a browser seek in it; `?download=1` makes it an attachment named after the camera
and the clip's range."""

from __future__ import annotations

import json
import re
from contextlib import aclosing
from typing import Any

from tornado.iostream import StreamClosedError

from api.clips import Clip
from api.errors import ApiError, NotFound
from api.handlers import JsonHandler
from api.media import FeedHandler, server_sent_event
from api.times import format_instant
from sensr.clips import ClipProgress

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ApiError):
    status, code = 416, "range_not_satisfiable"


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `Range` header within `size`; None to send it all
    (no header, or one we do not serve: several ranges). Raises RangeNotSatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable("an empty suffix range")
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        raise RangeNotSatisfiable(f"the clip has {size} bytes")
    return start, end


def download_name(camera_name: str, since_us: int, until_us: int) -> str:
    """`Front-door_2026-11-25T140000Z_2026-11-25T150000Z.mp4`: safe in any file system."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", camera_name).strip("-.") or "camera"
    stamp = [format_instant(t).replace(":", "")[:17] + "Z" for t in (since_us, until_us)]
    return f"{stem}_{stamp[0]}_{stamp[1]}.mp4"


class ClipVideoHandler(JsonHandler):
    def compute_etag(self) -> None:
        return None  # set by get(): the clip id names its content

    async def get(self, camera_id: str, clip_id: str) -> None:
        access, _ = await self.clip_camera(camera_id)
        clip = await self.services.run(self.services.clips.get, access.camera, clip_id)
        if clip is None:
            raise NotFound("no such clip")
        if clip.state != "ready":
            raise NotFound(f"the clip is {clip.state}, not ready")
        size = await self.services.objects.size(clip.object_key)
        wanted = byte_range(self.request.headers.get("Range"), size)
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Content-Type", "video/mp4")
        self.set_header("ETag", f'"clip-{clip.id}"')
        self.set_header("Cache-Control", "private, max-age=3600")
        if self.get_query_argument("download", "") not in ("", "0"):
            name = download_name(access.camera.name, clip.since_us, clip.until_us)
            self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        if wanted is None:
            first, last = 0, size - 1
        else:
            first, last = wanted
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.set_header("Content-Length", last - first + 1)
        if size == 0:
            self.finish()
            return
        stored = await self.services.objects.open(clip.object_key, first, last - first + 1)
        try:
            async with aclosing(stored.chunks()) as chunks:
                async for chunk in chunks:
                    self.write(chunk)
                    await self.flush()
        except StreamClosedError:
            return  # the player went away (it does, when it seeks)
        self.finish()


class ClipProgressStream(FeedHandler[ClipProgress]):
    """The camera's clip progress alone as Server-Sent Events (`event: clip`), for the web
    UI's progress bars (the JSON API relays the same events on the camera's `/events`).
    The stream starts with where each of the camera's clips stands now, so a clip that
    finished between the page and its stream is not missed."""

    async def get(self, camera_id: str) -> None:
        access, _ = await self.clip_camera(camera_id)
        subscription, _ = await self.subscribe(self.services.clips_feed, camera_id)
        clips = await self.services.run(self.services.clips.of_camera, access.camera)  # after subscribing: no gap
        self.start_stream("text/event-stream; charset=utf-8")
        now = [server_sent_event("clip", json.dumps(clip_now(clip))) for clip in clips]
        await self.write_events([subscription],
                                lambda progress: server_sent_event("clip", json.dumps(clip_event(progress, camera_id))),
                                first=now)


PROGRESS_FIELDS = ("state", "percent", "frames_done", "frames_total", "eta_seconds", "size", "duration", "reason")
"""What an `event: clip` says of a clip besides its id and camera: what progress changes."""


def clip_now(clip: Clip) -> dict[str, Any]:
    """The `event: clip` of where a stored clip stands."""
    return {"id": clip.id, "camera_id": clip.camera_id, **{name: getattr(clip, name) for name in PROGRESS_FIELDS}}


def clip_event(progress: ClipProgress, camera_id: str) -> dict[str, Any]:
    """The data of an `event: clip`: the fields of a clip's JSON that progress changes."""
    return {"id": progress.job_id, "camera_id": camera_id,
            **{name: getattr(progress, name) for name in PROGRESS_FIELDS}}
