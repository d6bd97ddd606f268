"""Cameras: list, create, read, change, delete, and rotate the upload password."""

from __future__ import annotations

from functools import partial

from api.activity_settings import zone_as_dict
from api.cameras import Camera, upload_login
from api.times import format_instant
from api.v1.base import ApiHandler
from api.v1.models import CameraCreate, CameraList, CameraOut, CameraPatch, UploadUrls, ZoneModel
from sensr.settings import Settings


def camera_out(camera: Camera, is_owner: bool, settings: Settings) -> CameraOut:
    """A camera's JSON: the upload login (HOST, USERNAME, PASSWORD, upload URLs) and the
    activity settings for its owner only."""
    out = CameraOut(id=camera.id, name=camera.name, public=camera.public, retention_days=camera.retention_days,
                    enabled=camera.enabled, created=format_instant(camera.created_us),
                    daily_timelapse=camera.daily_timelapse, time_zone=camera.time_zone)
    if not is_owner:
        return out
    login = upload_login(camera, settings)
    return out.model_copy(update={
        "host": login.host, "username": login.username, "password": login.password,
        "upload_urls": UploadUrls(ftp=login.ftp_url, photo=login.photo_url, mjpeg=login.mjpeg_url),
        "sensitivity": camera.sensitivity, "ignore_zones": [ZoneModel(**zone_as_dict(z)) for z in camera.ignore_zones],
        "event_gap_seconds": camera.event_gap_seconds, "keep_what_matters": camera.keep_what_matters,
        "unmoving_keep_hours": camera.unmoving_keep_hours, "offline_minutes": camera.offline_minutes})


class CamerasHandler(ApiHandler):
    async def get(self) -> None:
        """The caller's own cameras."""
        user = self.current_user_or_401()
        cameras = await self.services.run(self.services.cameras.owned_by, user.id)
        settings = self.services.settings
        self.send_json(CameraList(cameras=[camera_out(camera, True, settings) for camera in cameras]))

    async def post(self) -> None:
        user = self.current_user_or_401()
        body = self.body_as(CameraCreate)
        create = partial(self.services.cameras.create, user.id, body.name, public=body.public,
                         retention_days=body.retention_days, enabled=body.enabled)
        camera = await self.services.run(create)
        self.set_header("Location", f"/api/v1/cameras/{camera.id}")
        self.send_json(camera_out(camera, True, self.services.settings), status=201)


class CameraHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        access = await self.services.run(self.services.access.readable, camera_id, self.caller)
        self.send_json(camera_out(access.camera, access.is_owner, self.services.settings))

    async def patch(self, camera_id: str) -> None:
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        changes = self.body_as(CameraPatch).changes()
        updated = await self.services.run(partial(self.services.cameras.update, camera, **changes))
        self.send_json(camera_out(updated, True, self.services.settings))

    async def delete(self, camera_id: str) -> None:
        """Delete the camera: its upload login stops working when this returns."""
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        await self.services.run(self.services.cameras.delete, camera)
        self.send_no_content()


class PasswordHandler(ApiHandler):
    async def post(self, camera_id: str) -> None:
        """A new upload password; the old one is refused by the upload hosts from now on."""
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        rotated = await self.services.run(self.services.cameras.rotate_password, camera)
        self.send_json(camera_out(rotated, True, self.services.settings))
