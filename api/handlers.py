"""The bases of the handlers of both surfaces.

`ServiceHandler`: the services, and who the caller is, found in `prepare()` by the
surface's resolver (`api.callers`) and kept as `caller` (for `api.access`) and as Tornado's
`current_user`; the camera and frame lookups every reading handler shares.
`JsonHandler`: answers and errors as JSON (`{"error": code, "message": text}`): the
JSON API's handlers, and the images and live view both surfaces serve (`api.media`).
"""

from __future__ import annotations

import http
import inspect
import json
from typing import Any, ClassVar

import pydantic
import tornado.web

from api.access import CameraAccess, Caller, clip_access
from api.callers import Resolve
from api.errors import ApiError, NotFound, RateLimited
from api.services import Services
from api.text import is_plain
from sensr.index import FrameRecord


class ServiceHandler(tornado.web.RequestHandler):
    """Route arguments: `services`, and `resolve`, the surface's way to find the caller
    (`CallerResolver.api_caller` or `.browser_caller`)."""

    no_such_path: ClassVar[str] = "no such resource"
    """The NotFound message for a path parameter no id can hold (a control character)."""

    services: Services
    caller: Caller

    def initialize(self, services: Services, resolve: Resolve) -> None:
        self.services = services
        self._resolve = resolve
        self.caller = Caller()

    async def prepare(self) -> None:
        if not all(is_plain(value) for value in self.path_kwargs.values()):
            raise NotFound(self.no_such_path)
        self.caller = await self._resolve(self)
        self.current_user = self.caller.user

    async def head(self, *args: str, **kwargs: str) -> None:
        """HEAD answers as GET does, headers only (uptime monitors use it); Tornado drops
        the body. A handler without GET answers 405, as for any other method it lacks."""
        answered = self.get(*args, **kwargs)  # type: ignore[func-returns-value]
        if inspect.isawaitable(answered):
            await answered

    async def readable_camera(self, camera_id: str) -> CameraAccess:
        """The camera if the caller may read it; raises NotFound otherwise."""
        return await self.services.run(self.services.access.readable, camera_id, self.caller)

    async def clip_camera(self, camera_id: str) -> tuple[CameraAccess, str | None]:
        """The camera if the caller may use its clips, and for a share-link holder the
        link's id (`api.access.clip_access`); raises NotFound or Forbidden otherwise."""
        access = await self.readable_camera(camera_id)
        share_id = await self.services.run(clip_access, access, self.caller, self.services.shares.clips_share)
        return access, share_id

    async def frame(self, access: CameraAccess, frame_id: str) -> FrameRecord:
        """The camera's frame `frame_id`; raises NotFound when it has none of that id."""
        frame = await self.services.run(self.services.index.get, access.camera.username, frame_id)
        if frame is None:
            raise NotFound("no such frame")
        return frame


class JsonHandler(ServiceHandler):
    """Answers and errors as JSON, whichever surface routes it."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")  # responses may carry upload passwords
        self.set_header("X-Content-Type-Options", "nosniff")

    def check_xsrf_cookie(self) -> None:
        """No CSRF check: the JSON API reads no cookies (a bearer token or share token is
        never sent by a browser on its own), and the images and live view that the web UI
        serves with its session cookie only ever read."""

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The HTTP methods this handler implements."""
        implemented = [method for method in cls.SUPPORTED_METHODS
                       if getattr(cls, method.lower()) is not getattr(tornado.web.RequestHandler, method.lower())]
        return [method for method in implemented if method != "HEAD" or "GET" in implemented]

    def send_json(self, body: pydantic.BaseModel | dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        if isinstance(body, pydantic.BaseModel):
            self.finish(body.model_dump_json(exclude_unset=True))
        else:
            self.finish(json.dumps(body))

    def send_no_content(self) -> None:
        self.set_status(204)
        self.clear_header("Content-Type")
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, ApiError):
            code, message = error.code, error.message
            if isinstance(error, RateLimited):
                self.set_header("Retry-After", error.retry_after_header)
        elif status_code >= 500:
            code, message = "internal_error", "the server failed to handle the request; it has been logged"
        else:  # Tornado's own: 404 of an unknown route, 405, a malformed request
            try:
                phrase = http.HTTPStatus(status_code).phrase
            except ValueError:
                phrase = "Error"
            code, message = phrase.lower().replace(" ", "_").replace("-", "_"), phrase
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="sensr"')
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        self.finish(json.dumps({"error": code, "message": message}))
