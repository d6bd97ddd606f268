"""Clips of a camera: ask for one (202 at once, rendered by a clip worker), list them,
follow one (its state and progress; live on the camera's event stream), cancel or
delete one. The MP4 itself is `api.clip_media`'s, served to both surfaces."""

from __future__ import annotations

from functools import partial
from urllib.parse import quote

from api.access import CameraAccess
from api.callers import SHARE_PARAMETER
from api.clips import Clip, ClipOptions
from api.errors import NotFound
from api.times import format_instant, parse_instant
from api.v1.base import ApiHandler
from api.v1.models import ClipCreate, ClipList, ClipOut


def clip_out(clip: Clip, access: CameraAccess) -> ClipOut:
    """A clip's JSON; its links carry the share token that opened the camera."""
    base = f"/api/v1/cameras/{access.camera.id}/clips/{quote(clip.id, safe='')}"
    share = f"{SHARE_PARAMETER}={quote(access.share_token, safe='')}" if access.share_token else ""
    return ClipOut(id=clip.id, camera_id=clip.camera_id, kind=clip.kind, day=clip.day, state=clip.state,
                   percent=clip.percent, frames_done=clip.frames_done, frames_total=clip.frames_total,
                   eta_seconds=clip.eta_seconds, size=clip.size, duration=clip.duration, reason=clip.reason,
                   since=format_instant(clip.since_us), until=format_instant(clip.until_us), event_id=clip.event_id,
                   speed=clip.speed, factor=clip.factor, fps=clip.fps, max_width=clip.max_width,
                   max_height=clip.max_height, timestamp=clip.timestamp, created=format_instant(clip.created_us),
                   url=base + (f"?{share}" if share else ""),
                   video_url=f"{base}/video.mp4" + (f"?{share}" if share else ""),
                   download_url=f"{base}/video.mp4?download=1" + (f"&{share}" if share else ""))


class ClipBase(ApiHandler):
    async def clip(self, access: CameraAccess, clip_id: str) -> Clip:
        clip = await self.services.run(self.services.clips.get, access.camera, clip_id)
        if clip is None:
            raise NotFound("no such clip")
        return clip


class ClipsHandler(ClipBase):
    async def get(self, camera_id: str) -> None:
        """The camera's clips, newest first."""
        access, _ = await self.clip_camera(camera_id)
        clips = await self.services.run(self.services.clips.of_camera, access.camera)
        self.send_json(ClipList(clips=[clip_out(clip, access) for clip in clips]))

    async def post(self, camera_id: str) -> None:
        """Ask for a clip: 202 with the queued clip at once; follow its `url` (or the
        camera's event stream) until it is `ready`."""
        access, share_id = await self.clip_camera(camera_id)
        body = self.body_as(ClipCreate)
        options = ClipOptions(speed=body.speed, factor=body.factor, fps=body.fps, max_width=body.max_width,
                              max_height=body.max_height, timestamp=body.timestamp)
        since = None if body.since is None else parse_instant(body.since, "since")
        until = None if body.until is None else parse_instant(body.until, "until")
        user = self.current_user
        create = partial(self.services.clips.create, access.camera, options, since_us=since, until_us=until,
                         event_id=body.event_id, created_by=user.id if user is not None else None, share_id=share_id)
        clip = await self.services.run(create)
        out = clip_out(clip, access)
        self.set_header("Location", out.url)
        self.send_json(out, status=202)


class ClipHandler(ClipBase):
    async def get(self, camera_id: str, clip_id: str) -> None:
        access, _ = await self.clip_camera(camera_id)
        self.send_json(clip_out(await self.clip(access, clip_id), access))

    async def delete(self, camera_id: str, clip_id: str) -> None:
        """Delete the clip and its MP4 (cancelling it first if it is not finished)."""
        access, _ = await self.clip_camera(camera_id)
        clip = await self.clip(access, clip_id)
        await self.services.run(self.services.clips.delete, clip)
        self.send_no_content()


class ClipCancelHandler(ClipBase):
    async def post(self, camera_id: str, clip_id: str) -> None:
        """Stop a queued or rendering clip; a finished one is left as it is."""
        access, _ = await self.clip_camera(camera_id)
        clip = await self.clip(access, clip_id)
        self.send_json(clip_out(await self.services.run(self.services.clips.cancel, clip), access))
