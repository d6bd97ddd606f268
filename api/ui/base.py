"""What every web UI page shares: who the visitor is (cookie session, share link), access
to cameras, the template namespace, security headers and error pages.

Access follows the JSON API (`api.access`): the owner may do everything; anyone may read
a public camera and whoever holds a share link (`?share=...`, carried on in every link
of the pages it opens) may read that camera. To anyone else a camera does not exist
(404). A visitor who is not logged in and has no share link is sent to the login page
first, since the camera may well be theirs.
"""

from __future__ import annotations

import http
from datetime import UTC, tzinfo
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

import tornado.web

from api.access import CameraAccess
from api.callers import SHARE_PARAMETER
from api.cameras import Camera
from api.errors import ApiError, NotFound
from api.handlers import ServiceHandler
from api.status import age_text
from api.times import format_instant
from api.ui.calendar import to_datetime
from api.ui.messages import human_message
from api.ui.zone import browser_zone_name, page_zone, zone_names
from api.users import User
from sensr.frames import now_us

CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
XSRF_MESSAGE = ("This form has expired or was sent from another site. Go back, reload the page and try again.")

# Messages shown after a redirect (`?done=<key>`): fixed texts, never text from the URL.
NOTICES = {
    "signed-up": "Welcome to Sensr! Create your first camera to get an upload login.",
    "created": "Camera created. Configure your camera (or script) with the login below.",
    "saved": "Settings saved.",
    "password": "A new upload password was made: the old one no longer works. Update your camera.",
    "deleted": "The camera was deleted.",
    "revoked": "The share link was revoked: it opens nothing any more.",
    "logged-out": "You are logged out.",
    "alert-added": "Alert rule added.",
    "alert-deleted": "Alert rule deleted.",
    "alert-test": "Test alert queued: it shows in the delivery log in a moment.",
    "motion-saved": "Motion settings saved.",
    "frame-deleted": "The frame was deleted.",
    "frames-deleted": "The frames were deleted.",
    "password-changed": "Your password was changed. Every other session and API token was signed out.",
    "time-zone": "Time zone saved.",
    "token-revoked": "Signed out: that session or token opens nothing any more.",
    "signed-out-everywhere": "You are signed out everywhere: every session and API token has ended.",
    "account-deleted": "Your account was deleted, with its cameras, frames and share links.",
}


STATUS_LABELS = {"online": "Online", "offline": "Offline", "new": "No frames yet"}


class PageHandler(ServiceHandler):
    """Base of the HTML pages. Subclasses render templates of `api/templates`. Callers are
    a browser's (`CallerResolver.browser_caller`)."""

    no_such_path = "There is no such page here."

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")  # pages may show upload passwords
        self.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Referrer-Policy", "same-origin")  # share tokens ride in URLs

    # -- who and what ------------------------------------------------------------------

    def require_user(self) -> User:
        """The logged-in user; otherwise the visitor is sent to the login page (and the
        request ends here). Tornado's `@authenticated` does the same for a page that needs
        a login whatever it shows; this is for pages that find out later (a camera's), and
        for forms, which it sends to the login page too (to come back to the camera list)
        where `@authenticated` would refuse them with a bare 403."""
        user: User | None = self.current_user
        if user is None:
            target = self.request.uri if self.request.method in ("GET", "HEAD") else "/cameras"
            self.redirect(f"{self.get_login_url()}?{urlencode({'next': target})}")
            raise tornado.web.Finish()
        return user

    async def readable_camera(self, camera_id: str) -> CameraAccess:
        """The camera if the visitor may see it; raises NotFound (or sends a visitor with
        neither login nor share link to log in)."""
        try:
            return await super().readable_camera(camera_id)
        except NotFound:
            if self.caller.share_token is not None:
                raise NotFound("This camera does not exist, or the share link was revoked.") from None
            if self.caller.user is None:
                self.require_user()
            raise

    async def owned_camera(self, camera_id: str) -> Camera:
        """The camera if the logged-in visitor owns it; raises NotFound otherwise (also for
        a public camera of someone else: there is nothing to change here for them)."""
        self.require_user()
        access = await self.readable_camera(camera_id)
        if not access.is_owner:
            raise NotFound("no such camera")
        return access.camera

    @property
    def zone(self) -> tzinfo:
        """The time zone this page shows days and hours in (`api.ui.zone`)."""
        return page_zone(self, self.current_user)

    # -- rendering ---------------------------------------------------------------------

    def link(self, path: str, **params: Any) -> str:
        """A link to a page, carrying on the share token that opened this one."""
        query = {name: value for name, value in params.items() if value is not None}
        if self.caller.share_token:
            query[SHARE_PARAMETER] = self.caller.share_token
        return f"{path}?{urlencode(query)}" if query else path

    def get_template_namespace(self) -> dict[str, Any]:
        namespace = super().get_template_namespace()
        done = self.get_query_argument("done", None) if self.request.method == "GET" else None
        user: User | None = self.current_user
        namespace.update(user=user, share=self.caller.share_token, link=self.link, when=partial(when, zone=self.zone),
                         zone_name=str(self.zone), zone_source="user" if user and user.time_zone else "browser",
                         zone_names=zone_names(self.zone, to_datetime(now_us()).year), wall_clock=wall_clock,
                         browser_zone=browser_zone_name(self),
                         iso=format_instant, size=human_size, q=path_part, notice=NOTICES.get(done or ""),
                         error=None, title="Sensr", owner=False, tab="", new_camera_button=True, age=age_text,
                         status_label=STATUS_LABELS, human_message=human_message)
        return namespace

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, ApiError):
            message = error.message
        elif status_code == 403 and "xsrf" in (getattr(error, "log_message", None) or "").lower():
            message = XSRF_MESSAGE
        elif status_code >= 500:
            message = "Something went wrong on our side; it has been logged. Please try again."
        else:
            message = _phrase(status_code)
        self.render("error.html", status=status_code, heading=_phrase(status_code),
                    message=human_message(message), title=_phrase(status_code))


class NotFoundPage(PageHandler):
    """Any path no route matches: an HTML 404."""

    async def prepare(self) -> None:
        await super().prepare()
        raise NotFound("There is no such page here.")


def when(timestamp_us: int, precise: bool = False, zone: tzinfo = UTC) -> str:
    """`2026-11-25 15:30:05 CET` in `zone` (with milliseconds when `precise`)."""
    moment = to_datetime(timestamp_us, zone)
    if precise:
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} {moment:%Z}"
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")


def wall_clock(timestamp_us: int) -> str:
    """A camera's own clock as it reads (`2026-11-25 15:30:05.000`): the camera names no
    zone, so its time is never converted (see `ingest_ftp.names.camera_time_us`)."""
    return when(timestamp_us, precise=True)[:-len(" UTC")]


def path_part(text: str) -> str:
    """`text` quoted for one segment of a URL path."""
    return quote(text, safe="")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"
