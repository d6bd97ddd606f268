"""The web UI's route table and the Tornado settings it needs (templates, static files,
the login page, the HTML 404 page). Its images and live view are `api.media`'s, routed
here with a browser's callers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tornado.web

from api.callers import CallerResolver
from api.clip_media import ClipProgressStream, ClipVideoHandler
from api.exports import ZipHandler
from api.media import DownloadHandler, ImageHandler, LiveMjpegHandler, ThumbnailHandler
from api.services import Services
from api.ui import account
from api.ui.activity import EventPage, EventsPage, MotionSettingsAction
from api.ui.accounts import HomePage, LoginPage, LogoutPage, SignUpPage
from api.ui.alerts import AlertsPage, RuleAction
from api.ui.base import NotFoundPage
from api.ui.browse import BrowsePage, FramePage, HourPage, LivePage
from api.ui.cameras import CameraListPage, DeletePage, NewCameraPage, PasswordAction, SettingsPage, UploadLoginPage
from api.ui.clips import ClipCancelAction, ClipsPage
from api.ui.deletions import DeleteFrameAction, DeleteFramesPage
from api.ui.modules import ActionButton
from api.ui.shares import RevokeShareAction, SharesPage
from api.ui.status_feed import StatusFeedHandler
from api.ui.timeline import LiveWallPage, TimelinePage
from api.ui.data import FrameAtData, FramesData, StatusData, TimelineData

PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
LOGIN_PATH = "/login"
_CAMERA = r"/cameras/(?P<camera_id>[^/]+)"
_FRAME = _CAMERA + r"/frames/(?P<frame_id>[^/]+)"

ROUTES: tuple[tuple[str, type[tornado.web.RequestHandler]], ...] = (
    (r"/", HomePage),
    (r"/signup", SignUpPage),
    (LOGIN_PATH, LoginPage),
    (r"/logout", LogoutPage),
    (r"/cameras", CameraListPage),
    (r"/cameras/new", NewCameraPage),
    (_CAMERA, BrowsePage),
    (_CAMERA + r"/upload", UploadLoginPage),
    (_CAMERA + r"/settings", SettingsPage),
    (_CAMERA + r"/password", PasswordAction),
    (_CAMERA + r"/delete", DeletePage),
    (_CAMERA + r"/shares", SharesPage),
    (_CAMERA + r"/shares/(?P<share_id>[^/]+)/revoke", RevokeShareAction),
    (_CAMERA + r"/hours/(?P<hour>[^/]+)", HourPage),
    (_CAMERA + r"/live", LivePage),
    (_CAMERA + r"/live\.mjpg", LiveMjpegHandler),
    (_FRAME, FramePage),
    (_FRAME + r"/image", ImageHandler),
    (_FRAME + r"/thumbnail", ThumbnailHandler),
    (_CAMERA + r"/alerts", AlertsPage),
    (_CAMERA + r"/alerts/(?P<rule_id>[^/]+)/(?P<action>test|delete)", RuleAction),
    (_CAMERA + r"/events", EventsPage),
    (_CAMERA + r"/events/(?P<event_id>[^/]+)", EventPage),
    (_CAMERA + r"/motion", MotionSettingsAction),
    (_CAMERA + r"/clips", ClipsPage),
    (_CAMERA + r"/clips/events", ClipProgressStream),
    (_CAMERA + r"/clips/(?P<clip_id>[^/]+)/cancel", ClipCancelAction),
    (_CAMERA + r"/clips/(?P<clip_id>[^/]+)/video\.mp4", ClipVideoHandler),
    (_FRAME + r"/download", DownloadHandler),
    (_CAMERA + r"/frames\.zip", ZipHandler),
    (_CAMERA + r"/delete-frames", DeleteFramesPage),
    (_FRAME + r"/delete", DeleteFrameAction),
    (r"/account", account.AccountPage),
    (r"/account/password", account.PasswordAction),
    (r"/account/time-zone", account.TimeZoneAction),
    (r"/account/sign-out-everywhere", account.SignOutEverywhereAction),
    (r"/account/tokens/(?P<token_id>[^/]+)/revoke", account.RevokeTokenAction),
    (r"/account/delete", account.CloseAccountPage),
    (_CAMERA + r"/timeline", TimelinePage),
    (_CAMERA + r"/timeline\.json", TimelineData),
    (_CAMERA + r"/timeline/frame\.json", FrameAtData),
    (_CAMERA + r"/frames\.json", FramesData),
    (_CAMERA + r"/status\.json", StatusData),
    (_CAMERA + r"/status/events", StatusFeedHandler),
    (r"/live", LiveWallPage),
    (r"/live/events", StatusFeedHandler),
)


def ui_handlers(services: Services,
                callers: CallerResolver) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
    """The Tornado rules of the web UI. Callers are a browser's (`CallerResolver.browser_caller`)."""
    arguments = {"services": services, "resolve": callers.browser_caller}
    return [(pattern, handler, arguments) for pattern, handler in ROUTES]


def ui_settings(services: Services, callers: CallerResolver) -> dict[str, Any]:
    """Application settings of the web UI."""
    return {
        "template_path": str(TEMPLATES),
        "ui_modules": {"ActionButton": ActionButton},
        "static_path": str(STATIC),
        "autoescape": "xhtml_escape",
        "login_url": LOGIN_PATH,
        "default_handler_class": NotFoundPage,
        "default_handler_args": {"services": services, "resolve": callers.browser_caller},
    }
