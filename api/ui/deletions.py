"""Deleting frames from the web UI (the owner only): one frame from the viewer, or an
hour's or a day's frames after a page that says how many will go. The work is
`api.frame_removal`'s (images first, then index rows)."""

from __future__ import annotations

from urllib.parse import urlencode

from api.errors import InvalidInput, NotFound
from api.times import parse_instant
from api.ui.base import PageHandler
from api.ui.calendar import hour_key, to_datetime


class DeleteFrameAction(PageHandler):
    async def post(self, camera_id: str, frame_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        frame = await self.services.run(self.services.index.get, camera.username, frame_id)
        if frame is None:
            raise NotFound("no such frame")
        await self.services.run(self.services.removal.remove, [frame])
        self.redirect(f"/cameras/{camera.id}/hours/{hour_key(frame.timestamp_us)}?done=frame-deleted")


class DeleteFramesPage(PageHandler):
    """`?since=...&until=...` (instants as in `api.times`): how many frames the range holds,
    and a button that deletes them."""

    async def get(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        since, until = self._range()
        counts = await self.services.run(self.services.index.hourly_counts, camera.username, since, until)
        frames = sum(count for hour, count in counts if since <= hour < until)
        self.render("frames_delete.html", title=f"Delete frames · {camera.name}", camera=camera, since=since,
                    until=until, frames=frames, owner=True, tab="browse")

    async def post(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        since, until = self._range()
        await self.services.run(self.services.removal.remove_range, camera.username, since, until)
        day = to_datetime(since, self.zone).date().isoformat()
        self.redirect(f"/cameras/{camera.id}?{urlencode({'day': day, 'done': 'frames-deleted'})}")

    def _range(self) -> tuple[int, int]:
        since = parse_instant(self.get_argument("since", ""), "since")
        until = parse_instant(self.get_argument("until", ""), "until")
        if until <= since:
            raise InvalidInput("until must be later than since")
        return since, until
