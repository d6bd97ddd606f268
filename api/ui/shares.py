"""Share links of a camera: list, create (the link is shown once: only its hash is
stored), revoke. A link opens the camera's pages read-only: `/cameras/<id>?share=...`."""

from __future__ import annotations

from urllib.parse import urlencode

from api.callers import SHARE_PARAMETER
from api.cameras import Camera
from api.errors import InvalidInput, NotFound
from api.links import public_base_url
from api.ui.base import PageHandler


class SharesPage(PageHandler):
    async def get(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        await self._page(camera)

    async def post(self, camera_id: str) -> None:
        """Create a link and show it (this once)."""
        camera = await self.owned_camera(camera_id)
        label = self.get_body_argument("label", "") or None
        try:
            share, token = await self.services.run(self.services.shares.create, camera, label,
                                                   self.get_body_argument("allow_clips", "") == "on")
        except InvalidInput as error:
            self.set_status(error.status)
            await self._page(camera, error=error.message, label=label or "")
            return
        link = f"{public_base_url(self.services.settings)}/cameras/{camera.id}?{urlencode({SHARE_PARAMETER: token})}"
        await self._page(camera, new_link=link, new_share=share.id)

    async def _page(self, camera: Camera, error: str | None = None, label: str = "", new_link: str | None = None,
                    new_share: str | None = None) -> None:
        shares = await self.services.run(self.services.shares.of_camera, camera)
        self.render("shares.html", title=f"Share · {camera.name}", camera=camera, shares=shares, error=error,
                    label=label, new_link=new_link, new_share=new_share, owner=True, tab="share")


class RevokeShareAction(PageHandler):
    async def post(self, camera_id: str, share_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        if not await self.services.run(self.services.shares.revoke, camera, share_id):
            raise NotFound("no such share link")
        self.redirect(f"/cameras/{camera.id}/shares?done=revoked")
