"""The route table of API v1: path templates (as in the OpenAPI document) and handlers."""

from __future__ import annotations

import json
import re
from typing import Any

from api.callers import CallerResolver
from api.handlers import JsonHandler
from api.exports import ZipHandler
from api.media import DownloadHandler, ImageHandler, LiveMjpegHandler, ThumbnailHandler
from api.services import Services
from api.v1 import openapi
from api.v1.alerts import AlertRuleHandler, AlertRulesHandler, DeliveriesHandler, TestAlertHandler
from api.v1.activity import MotionEventHandler, MotionEventsHandler
from api.v1.account import MyTokenHandler, MyTokensHandler, PasswordChangeHandler
from api.v1.base import ApiHandler, NotFoundHandler
from api.clip_media import ClipVideoHandler
from api.v1.cameras import CameraHandler, CamerasHandler, PasswordHandler
from api.v1.clips import ClipCancelHandler, ClipHandler, ClipsHandler
from api.v1.events import EventsHandler
from api.v1.frames import CalendarHandler, FrameHandler, FramesHandler, LatestFrameHandler
from api.v1.shares import ShareHandler, SharesHandler
from api.v1.timeline import FrameAtHandler, StatusHandler, TimelineHandler
from api.v1.users import CurrentTokenHandler, MeHandler, TokensHandler, UsersHandler

PREFIX = "/api/v1"


class OpenApiHandler(ApiHandler):
    async def prepare(self) -> None:
        """The document needs no credentials, and ignores any."""

    def get(self) -> None:
        self.set_header("Cache-Control", "no-cache")
        self.finish(json.dumps(openapi.document()))


# Order matters only where templates overlap: /frames/latest before /frames/{frame_id},
# /alerts/deliveries before /alerts/{rule_id}.
ROUTES: tuple[tuple[str, type[JsonHandler]], ...] = (
    ("/users", UsersHandler),
    ("/tokens", TokensHandler),
    ("/tokens/current", CurrentTokenHandler),
    ("/me", MeHandler),
    ("/cameras", CamerasHandler),
    ("/cameras/{camera_id}", CameraHandler),
    ("/cameras/{camera_id}/password", PasswordHandler),
    ("/cameras/{camera_id}/frames", FramesHandler),
    ("/cameras/{camera_id}/frames/latest", LatestFrameHandler),
    ("/cameras/{camera_id}/frames/{frame_id}", FrameHandler),
    ("/cameras/{camera_id}/frames/{frame_id}/image", ImageHandler),
    ("/cameras/{camera_id}/frames/{frame_id}/thumbnail", ThumbnailHandler),
    ("/cameras/{camera_id}/calendar", CalendarHandler),
    ("/cameras/{camera_id}/live.mjpg", LiveMjpegHandler),
    ("/cameras/{camera_id}/events", EventsHandler),
    ("/cameras/{camera_id}/shares", SharesHandler),
    ("/cameras/{camera_id}/shares/{share_id}", ShareHandler),
    ("/cameras/{camera_id}/clips", ClipsHandler),
    ("/cameras/{camera_id}/clips/{clip_id}", ClipHandler),
    ("/cameras/{camera_id}/clips/{clip_id}/cancel", ClipCancelHandler),
    ("/cameras/{camera_id}/clips/{clip_id}/video.mp4", ClipVideoHandler),
    ("/openapi.json", OpenApiHandler),
    ("/cameras/{camera_id}/alerts", AlertRulesHandler),
    ("/cameras/{camera_id}/alerts/deliveries", DeliveriesHandler),
    ("/cameras/{camera_id}/alerts/{rule_id}", AlertRuleHandler),
    ("/cameras/{camera_id}/alerts/{rule_id}/test", TestAlertHandler),
    ("/cameras/{camera_id}/motion-events", MotionEventsHandler),
    ("/cameras/{camera_id}/motion-events/{event_id}", MotionEventHandler),
    ("/cameras/{camera_id}/frames/{frame_id}/download", DownloadHandler),
    ("/cameras/{camera_id}/frames.zip", ZipHandler),
    ("/me/password", PasswordChangeHandler),
    ("/me/tokens", MyTokensHandler),
    ("/me/tokens/{token_id}", MyTokenHandler),
    ("/cameras/{camera_id}/status", StatusHandler),
    ("/cameras/{camera_id}/timeline", TimelineHandler),
    ("/cameras/{camera_id}/timeline/frame", FrameAtHandler),
)


def pattern(template: str) -> str:
    """`/cameras/{camera_id}` as a Tornado path regex with a named group per parameter."""
    parts = re.split(r"\{(\w+)\}", template)
    return PREFIX + "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts))


def v1_handlers(services: Services,
                callers: CallerResolver) -> list[tuple[str, type[JsonHandler], dict[str, Any]]]:
    """The Tornado rules of API v1, ending with a JSON 404 for any other path under it.
    Callers are the JSON API's (`CallerResolver.api_caller`)."""
    arguments = {"services": services, "resolve": callers.api_caller}
    rules = [(pattern(template), handler, arguments) for template, handler in ROUTES]
    return [*rules, (PREFIX + r"(?:/.*)?", NotFoundHandler, arguments)]
