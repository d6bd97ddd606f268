"""What a timeline and a status display need, compactly: a camera's status now, the frame
density of a span in buckets (with each bucket's first frame, so a scrubber can show a
thumbnail for any position without asking again), and the frame shown at an instant."""

from __future__ import annotations

from api.errors import InvalidInput, NotFound
from api.status import camera_status
from api.timeline import span_buckets, span_moving
from api.times import format_instant
from api.v1.base import ApiHandler
from api.v1.frames import frame_out
from api.v1.models import CameraStatusOut, TimelineOut
from sensr.frames import now_us

DAY_US = 86_400_000_000


class StatusHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        now = now_us()
        status = await self.services.run(camera_status, self.services.index, access.camera, now)
        self.send_json(CameraStatusOut(
            camera_id=access.camera.id, state=status.state, offline_minutes=status.offline_minutes,
            last_frame=frame_out(status.latest, access) if status.latest else None,
            last_frame_age_s=None if status.age_us is None else status.age_us / 1_000_000,
            frames_last_hour=status.frames_last_hour, now=format_instant(now)))


class TimelineHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        """Buckets of `step` seconds (default 60) over [since, until) (default: the last day)."""
        access = await self.readable_camera(camera_id)
        until = self.instant_argument("until")
        until = now_us() if until is None else until
        since = self.instant_argument("since")
        since = until - DAY_US if since is None else since
        step = self.int_argument("step", 60, 1, 86_400)
        total, buckets = await self.services.run(span_buckets, self.services.index, access.camera.username, since,
                                                 until, step)
        moving = await self.services.run(span_moving, self.services.index, access.camera.username, since, until, step)
        self.send_json(TimelineOut(camera_id=access.camera.id, since_us=since, until_us=until, step_s=step,
                                   total=total, buckets=buckets, moving=[list(bucket) for bucket in moving]))


class FrameAtHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        """The frame shown at `at`: the last one at or before it, else the first after."""
        access = await self.readable_camera(camera_id)
        at = self.instant_argument("at")
        if at is None:
            raise InvalidInput("at is required: an instant (ISO 8601 or epoch seconds)")
        frame = await self.services.run(self.services.index.frame_at, access.camera.username, at)
        if frame is None:
            raise NotFound("this camera has no frames yet")
        self.send_json(frame_out(frame, access))
