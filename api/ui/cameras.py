"""Camera pages of the owner: the list with latest thumbnails, "create new camera", the
upload login (HOST, USERNAME, PASSWORD and copy-paste commands), settings, password
rotation and deletion. Every change goes through `CameraService`, so it reaches
`sensr.cameras` (and so the upload hosts) before the page answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

import tornado.web

from api.activity_settings import zone_as_dict
from api.cameras import MAX_RETENTION_DAYS, Camera, upload_login
from api.errors import InvalidInput
from api.links import public_base_url
from api.services import Services
from api.status import CameraStatus, camera_status
from api.ui.base import PageHandler
from api.ui.commands import upload_guide
from sensr.frames import now_us
from sensr.index import FrameRecord


@dataclass(frozen=True, slots=True)
class CameraCard:
    camera: Camera
    status: CameraStatus
    frames: int

    @property
    def latest(self) -> FrameRecord | None:
        return self.status.latest


class CameraListPage(PageHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        cards = await self.services.run(camera_cards, self.services, self.current_user.id)
        self.render("cameras.html", title="Your cameras", cards=cards, new_camera_button=bool(cards))


def camera_cards(services: Services, owner_id: str) -> list[CameraCard]:
    """The owner's cameras with their status now. Blocks (index queries per camera)."""
    index, now = services.index, now_us()
    return [CameraCard(camera, camera_status(index, camera, now), index.totals(camera.username)[0])
            for camera in services.cameras.owned_by(owner_id)]


class NewCameraPage(PageHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.render("camera_new.html", title="Create new camera", name="", error=None)

    async def post(self) -> None:
        user = self.require_user()
        name = self.get_body_argument("name", "")
        public = self.get_body_argument("public", None) is not None
        try:
            camera = await self.services.run(partial(self.services.cameras.create, user.id, name, public=public))
        except InvalidInput as error:
            self.set_status(error.status)
            self.render("camera_new.html", title="Create new camera", name=name, error=error.message)
            return
        self.redirect(f"/cameras/{camera.id}/upload?done=created")


class UploadLoginPage(PageHandler):
    """The seed's "Create New Camera" page: HOST, USERNAME, PASSWORD and how to use them."""

    async def get(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        guide = upload_guide(upload_login(camera, self.services.settings), self.services.settings,
                             public_base_url(self.services.settings))
        self.render("camera_upload.html", title=f"Upload login · {camera.name}", camera=camera, guide=guide,
                    owner=True, tab="upload")


class SettingsPage(PageHandler):
    async def get(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        await self.render_settings(camera)

    async def post(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        try:
            changes = self._changes(camera)
        except InvalidInput as error:
            self.set_status(error.status)
            await self.render_settings(camera, error.message)
            return
        if changes:
            try:
                camera = await self.services.run(partial(self.services.cameras.update, camera, **changes))
            except InvalidInput as error:
                self.set_status(error.status)
                await self.render_settings(camera, error.message)
                return
        self.redirect(f"/cameras/{camera.id}/settings?done=saved")

    def _changes(self, camera: Camera) -> dict[str, Any]:
        retention_text = self.get_body_argument("retention_days", "").strip()
        try:
            retention = int(retention_text) if retention_text else None
        except ValueError:
            raise InvalidInput("Keep frames for: enter a number of days, or leave it empty for the default") from None
        if retention is not None and not 1 <= retention <= MAX_RETENTION_DAYS:
            raise InvalidInput(f"Keep frames for: between 1 and {MAX_RETENTION_DAYS} days, or empty for the default")
        wanted = {"name": self.get_body_argument("name", camera.name), "retention_days": retention,
                  "public": self.get_body_argument("public", None) is not None,
                  "enabled": self.get_body_argument("enabled", None) is not None}
        return {field: value for field, value in wanted.items() if getattr(camera, field) != value}

    async def render_settings(self, camera: Camera, error: str | None = None) -> None:
        """The settings page; the motion section draws ignore zones over the latest frame."""
        settings = self.services.settings
        guide = upload_guide(upload_login(camera, settings), settings)
        latest = await self.services.run(self.services.index.latest, camera.username)
        self.render("camera_settings.html", title=f"Settings · {camera.name}", camera=camera, guide=guide,
                    error=error, default_retention=settings.catalog.retention_days,
                    public_link=f"{public_base_url(settings)}/cameras/{camera.id}", owner=True, tab="settings",
                    latest=latest, zones_json=json.dumps([zone_as_dict(zone) for zone in camera.ignore_zones]))


class PasswordAction(PageHandler):
    async def post(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        await self.services.run(self.services.cameras.rotate_password, camera)
        self.redirect(f"/cameras/{camera.id}/settings?done=password")


class DeletePage(PageHandler):
    async def get(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        frames = (await self.services.run(self.services.index.totals, camera.username))[0]
        self.render("camera_delete.html", title=f"Delete · {camera.name}", camera=camera, frames=frames,
                    owner=True, tab="settings")

    async def post(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        await self.services.run(self.services.cameras.delete, camera)
        self.redirect("/cameras?done=deleted")
