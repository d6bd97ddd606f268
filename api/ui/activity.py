"""Motion activity in the browser: a camera's events (newest first, by day, with their key
frames), one event played frame by frame, and the owner's motion settings (sensitivity,
ignore zones drawn over the latest frame, event gap, "keep what matters", offline
minutes), which go through `CameraService` like every camera change and so reach
`sensr.cameras` before the page answers. Readers see what they see of the frames
(`api.ui.base`); only the owner changes settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from api.activity_settings import zone_as_dict
from api.cameras import Camera
from api.errors import InvalidInput, NotFound
from api.ui.browse import _CameraPage
from api.ui.calendar import DAY_US, parse_day, to_us
from api.ui.cameras import SettingsPage
from sensr.activity import Event
from sensr.index import FrameIndex, FrameRecord, InvalidCursor, StoredEvent

EVENTS_PER_PAGE = 24
EVENT_FRAMES = 600  # frames an event view plays at most (a longer event links on to its hours)


@dataclass(frozen=True, slots=True)
class EventView:
    """An event as a page shows it."""

    event: Event
    ended: bool

    @property
    def seconds(self) -> float:
        return (self.event.end_us - self.event.start_us) / 1_000_000


class EventsPage(_CameraPage):
    """`?day=2026-11-25` keeps the events that started that day (UTC); `cursor` pages on."""

    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        day_text = self.get_query_argument("day", None)
        day: date | None = parse_day(day_text) if day_text else None
        since, until = (to_us(day), to_us(day) + DAY_US) if day else (None, None)
        cursor = self.get_query_argument("cursor", None) or None
        query = partial(self.services.index.events_page, access.camera.username, since, until, EVENTS_PER_PAGE,
                        cursor)
        try:
            page = await self.services.run(query)
        except InvalidCursor:
            raise NotFound("no such page of events") from None
        self.render_camera("events.html", access, title=f"Events · {access.camera.name}", day=day,
                           events=[EventView(stored.event, stored.ended) for stored in page.events],
                           next_cursor=page.next_cursor, first_page=cursor is None, tab="events")


class EventPage(_CameraPage):
    """One event: its frames played in turn (a script steps through them; without it, the
    key frame and the strip of thumbnails link to each frame)."""

    async def get(self, camera_id: str, event_id: str) -> None:
        access = await self.readable_camera(camera_id)
        found = await self.services.run(_event_frames, self.services.index, access.camera.username, event_id)
        if found is None:
            raise NotFound("no such event")
        stored, frames, more = found
        key = next((frame for frame in frames if frame.frame_id == stored.event.key_frame_id), frames[0] if frames
                   else None)
        self.render_camera("event.html", access, title=f"Event · {access.camera.name}",
                           view=EventView(stored.event, stored.ended), frames=frames, key=key, more=more,
                           tab="events")


class MotionSettingsAction(SettingsPage):
    """The motion form of the settings page (`camera_motion.html`)."""

    async def get(self, camera_id: str) -> None:
        self.redirect(f"/cameras/{camera_id}/settings")

    async def post(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        try:
            changes = self._motion_changes(camera)
            if changes:
                camera = await self.services.run(partial(self.services.cameras.update, camera, **changes))
        except InvalidInput as error:
            self.set_status(error.status)
            await self.render_settings(camera, error.message)
            return
        self.redirect(f"/cameras/{camera.id}/settings?done=motion-saved#motion")

    def _motion_changes(self, camera: Camera) -> dict[str, Any]:
        wanted = {
            "sensitivity": _whole(self.get_body_argument("sensitivity", str(camera.sensitivity)), "Sensitivity"),
            "ignore_zones": _zones(self.get_body_argument("ignore_zones", "[]")),
            "event_gap_seconds": _decimal(self.get_body_argument("event_gap_seconds", ""), "Event ends after"),
            "keep_what_matters": self.get_body_argument("keep_what_matters", None) is not None,
            "unmoving_keep_hours": _whole(self.get_body_argument("unmoving_keep_hours", ""), "Keep other frames for"),
            "offline_minutes": _whole(self.get_body_argument("offline_minutes", ""), "Offline after"),
        }
        current = {name: getattr(camera, name) for name in wanted}
        current["ignore_zones"] = [zone_as_dict(zone) for zone in camera.ignore_zones]
        return {name: value for name, value in wanted.items() if current[name] != value}


def _event_frames(index: FrameIndex, camera: str,
                  event_id: str) -> tuple[StoredEvent, list[FrameRecord], bool] | None:
    stored = index.get_event(camera, event_id)
    if stored is None:
        return None
    page = index.page(camera, stored.event.start_us, stored.event.end_us + 1, EVENT_FRAMES)
    return stored, page.frames, page.next_cursor is not None


def _whole(text: str, label: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput(f"{label}: enter a whole number") from None


def _decimal(text: str, label: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise InvalidInput(f"{label}: enter a number of seconds") from None


def _zones(text: str) -> list[Any]:
    try:
        zones = json.loads(text or "[]")
    except ValueError:
        raise InvalidInput("Ignore zones: the drawn zones could not be read; draw them again") from None
    if not isinstance(zones, list):
        raise InvalidInput("Ignore zones: the drawn zones could not be read; draw them again")
    return zones
