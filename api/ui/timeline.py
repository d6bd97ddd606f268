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

from datetime import date, timedelta

import tornado.web

from api.ui.browse import _CameraPage
from api.ui.calendar import DAY_US, parse_day, to_datetime
from api.ui.cameras import camera_cards
from api.ui.base import PageHandler
from sensr.frames import now_us

EPOCH = date(1970, 1, 1)


class TimelinePage(_CameraPage):
    """`?day=2026-11-25` (UTC; default: the day of the latest frame) and `?at=<µs>` (the
    instant to open at; default: the day's first frame)."""

    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        day_text = self.get_query_argument("day", None)
        if day_text:
            day = parse_day(day_text)
        else:
            latest = await self.services.run(self.services.index.latest, access.camera.username)
            day = to_datetime(latest.timestamp_us if latest else now_us()).date()
        since = (day - EPOCH).days * DAY_US
        at = self.get_query_argument("at", "")
        self.render_camera("timeline.html", access, title=f"{access.camera.name} · {day.isoformat()}", day=day,
                           since_us=since, until_us=since + DAY_US, at_us=int(at) if at.isdigit() else "",
                           previous_day=(day - timedelta(days=1)).isoformat(),
                           next_day=(day + timedelta(days=1)).isoformat(), tab="timeline")


class LiveWallPage(PageHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        cards = await self.services.run(camera_cards, self.services, self.current_user.id)
        self.render("live_wall.html", title="Live wall", cards=cards, now=now_us())
