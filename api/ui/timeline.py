"""The day timeline of a camera and the live wall of all of a user's cameras.

The timeline page is a shell: the strip, the player and the frame are drawn by
`static/timeline.js` from the compact JSON routes (`timeline.json`: the day's density in
one-minute buckets with each bucket's first frame; `timeline/frame.json`: the frame at an
instant; `frames.json`: the frames around the one shown), so moving through a day of
86,400 frames never loads a page and asks only for what the visible span needs.

The live wall shows each camera's latest frame and status, kept up to date over one
Server-Sent Events stream (`/live/events`, see `api.ui.status_feed`); a tile opens the
camera's full-screen live view.
"""

from __future__ import annotations

from datetime import timedelta, tzinfo

import tornado.web

from api.ui.browse import _CameraPage
from api.ui.calendar import HOUR_US, parse_day, to_datetime
from api.ui.cameras import camera_cards
from api.ui.base import PageHandler
from api.zones import day_span_us
from sensr.frames import now_us


class TimelinePage(_CameraPage):
    """`?day=2026-11-25` (a local day in the page's zone: 23, 24 or 25 hours; default: the
    day of the latest frame) and `?at=<µs>` (the instant to open at; default: the day's
    first frame)."""

    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        zone = self.zone
        day_text = self.get_query_argument("day", None)
        if day_text:
            day = parse_day(day_text)
        else:
            latest = await self.services.run(self.services.index.latest, access.camera.username)
            day = to_datetime(latest.timestamp_us if latest else now_us(), zone).date()
        since, until = day_span_us(day, zone)
        at = self.get_query_argument("at", "")
        self.render_camera("timeline.html", access, title=f"{access.camera.name} · {day.isoformat()}", day=day,
                           since_us=since, until_us=until, at_us=int(at) if at.isdigit() else "",
                           hours=(until - since) // HOUR_US, ticks=hour_ticks(since, until, zone),
                           previous_day=(day - timedelta(days=1)).isoformat(),
                           next_day=(day + timedelta(days=1)).isoformat(), tab="timeline",
                           clips=await self.may_clip(access))


def hour_ticks(since_us: int, until_us: int, zone: tzinfo, every: int = 3) -> list[tuple[int, str]]:
    """The strip's hour labels: (instant, `HH:MM`) of each local hour of [since, until)
    that is a multiple of `every`, where it falls; on a day when clocks change the labels
    are where the hours really are (a 23-hour day has no 02:00, a 25-hour one 01:00 twice)."""
    ticks = []
    for start in range(since_us, until_us, HOUR_US):
        local = to_datetime(start, zone)
        if local.hour % every == 0:
            ticks.append((start, local.strftime("%H:%M")))
    return ticks


class LiveWallPage(PageHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        cards = await self.services.run(camera_cards, self.services, self.current_user.id)
        self.render("live_wall.html", title="Live wall", cards=cards, now=now_us())
