"""Share links of a camera: list, create (the token is shown once), revoke."""

from __future__ import annotations

from api.callers import SHARE_PARAMETER
from api.errors import NotFound
from api.links import public_base_url
from api.shares import Share
from api.times import format_instant
from api.v1.base import ApiHandler
from api.v1.models import ShareCreate, ShareList, ShareOut


def share_out(share: Share, **once: str) -> ShareOut:
    return ShareOut(id=share.id, camera_id=share.camera_id, label=share.label,
                    created=format_instant(share.created_us), allow_clips=share.allow_clips, **once)


class SharesHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        shares = await self.services.run(self.services.shares.of_camera, camera)
        self.send_json(ShareList(shares=[share_out(share) for share in shares]))

    async def post(self, camera_id: str) -> None:
        """A new share link: the answer's `url` opens the camera read-only for whoever has it."""
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        body = self.body_as(ShareCreate, optional=True)
        share, token = await self.services.run(self.services.shares.create, camera, body.label, body.allow_clips)
        url = f"{public_base_url(self.services.settings)}/api/v1/cameras/{camera.id}?{SHARE_PARAMETER}={token}"
        self.send_json(share_out(share, token=token, url=url), status=201)


class ShareHandler(ApiHandler):
    async def delete(self, camera_id: str, share_id: str) -> None:
        """Revoke a share link: its token opens nothing from now on."""
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        if not await self.services.run(self.services.shares.revoke, camera, share_id):
            raise NotFound("no such share link")
        self.send_no_content()
