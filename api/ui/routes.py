"""The web UI's route table and the Tornado settings it needs (templates, static files,
the login page, the HTML 404 page). Its images and live view are `api.media`'s, routed
here with a browser's callers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tornado.web

from api.callers import CallerResolver
from api.media import ImageHandler, LiveMjpegHandler, ThumbnailHandler
from api.services import Services
from api.ui.accounts import HomePage, LoginPage, LogoutPage, SignUpPage
from api.ui.base import NotFoundPage
from api.ui.browse import BrowsePage, FramePage, HourPage, LivePage
from api.ui.cameras import CameraListPage, DeletePage, NewCameraPage, PasswordAction, SettingsPage, UploadLoginPage
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
    (_CAMERA + r"/timeline", TimelinePage),
    (_CAMERA + r"/timeline\.json", TimelineData),
    (_CAMERA + r"/timeline/frame\.json", FrameAtData),
    (_CAMERA + r"/frames\.json", FramesData),
    (_CAMERA + r"/status\.json", StatusData),
    (_CAMERA + r"/events", StatusFeedHandler),
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
        "static_path": str(STATIC),
        "autoescape": "xhtml_escape",
        "login_url": LOGIN_PATH,
        "default_handler_class": NotFoundPage,
        "default_handler_args": {"services": services, "resolve": callers.browser_caller},
    }
