"""The web UI's route table and the Tornado settings it needs (templates, static files,
cookie secret, XSRF protection, the HTML 404 page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tornado.web

from api.services import Services
from api.ui.accounts import HomePage, LoginPage, LogoutPage, SignUpPage
from api.ui.base import LOGIN_PATH, NotFoundPage
from api.ui.browse import (
    BrowsePage,
    FramePage,
    HourPage,
    LivePage,
    SessionImage,
    SessionLiveMjpeg,
    SessionThumbnail,
)
from api.ui.cameras import CameraListPage, DeletePage, NewCameraPage, PasswordAction, SettingsPage, UploadLoginPage
from api.ui.session import cookie_secret
from api.ui.shares import RevokeShareAction, SharesPage

PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
_CAMERA = r"/cameras/(?P<camera_id>[^/]+)"
_FRAME = _CAMERA + r"/frames/(?P<frame_id>[^/]+)"

ROUTES: tuple[tuple[str, type[tornado.web.RequestHandler]], ...] = (
    (r"/", HomePage),
    (r"/signup", SignUpPage),
    (r"/login", LoginPage),
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
    (_CAMERA + r"/live\.mjpg", SessionLiveMjpeg),
    (_FRAME, FramePage),
    (_FRAME + r"/image", SessionImage),
    (_FRAME + r"/thumbnail", SessionThumbnail),
)


def ui_handlers(services: Services) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
    arguments = {"services": services}
    return [(pattern, handler, arguments) for pattern, handler in ROUTES]


def ui_settings(services: Services) -> dict[str, Any]:
    """Application settings of the web UI. `xsrf_cookies` applies to every handler; the
    JSON API's opt out (`JsonHandler.check_xsrf_cookie`): they read no cookies."""
    secure = services.settings.api.secure_cookies
    return {
        "template_path": str(TEMPLATES),
        "static_path": str(STATIC),
        "autoescape": "xhtml_escape",
        "cookie_secret": cookie_secret(services.settings),
        "xsrf_cookies": True,
        "xsrf_cookie_kwargs": {"httponly": True, "samesite": "Lax", "secure": secure},
        "login_url": LOGIN_PATH,
        "default_handler_class": NotFoundPage,
        "default_handler_args": {"services": services},
    }
