"""Clips in the browser: the camera's clip list (progress bars fed by the clip progress
stream, a `<video>` player and a download link for each finished clip), and the forms
on the day and hour pages that ask for a clip of that span. For the owner, and for the
holder of a share link that allows clips (the share token rides along in the links)."""

from __future__ import annotations

from api.clips import Clip, ClipOptions
from api.errors import InvalidInput, NotFound
from api.ui.base import PageHandler

FORM_SPEEDS = {"timelapse", "factor", "realtime"}


class ClipsPage(PageHandler):
    async def get(self, camera_id: str) -> None:
        access, _ = await self.clip_camera(camera_id)
        clips = await self.services.run(self.services.clips.of_camera, access.camera)
        self.render("clips.html", title=f"Clips · {access.camera.name}", camera=access.camera,
                    owner=access.is_owner, clips=clips, tab="clips", video=self.video_url)

    async def post(self, camera_id: str) -> None:
        """A clip of [since, until) (epoch microseconds, from the day or hour page's form)."""
        access, share_id = await self.clip_camera(camera_id)
        speed = self.get_body_argument("speed", "timelapse")
        if speed not in FORM_SPEEDS:
            raise InvalidInput("unknown speed")
        try:
            since, until = int(self.get_body_argument("since")), int(self.get_body_argument("until"))
            factor = float(self.get_body_argument("factor", "10"))
        except ValueError:
            raise InvalidInput("since, until and factor must be numbers") from None
        options = ClipOptions(speed=speed, factor=factor, timestamp=self.get_body_argument("timestamp", "") == "on")
        user = self.current_user
        await self.services.run(lambda: self.services.clips.create(
            access.camera, options, since_us=since, until_us=until, created_by=user.id if user else None,
            share_id=share_id))
        self.redirect(self.link(f"/cameras/{access.camera.id}/clips"))

    def video_url(self, clip: Clip, download: bool = False) -> str:
        params = {"download": "1"} if download else {}
        return self.link(f"/cameras/{clip.camera_id}/clips/{clip.id}/video.mp4", **params)


class ClipCancelAction(PageHandler):
    async def post(self, camera_id: str, clip_id: str) -> None:
        access, _ = await self.clip_camera(camera_id)
        clip = await self.services.run(self.services.clips.get, access.camera, clip_id)
        if clip is None:
            raise NotFound("no such clip")
        await self.services.run(self.services.clips.cancel, clip)
        self.redirect(self.link(f"/cameras/{access.camera.id}/clips"))
