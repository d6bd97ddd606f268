"""Who may see and who may change a camera.

- Its owner may do everything.
- Anyone may read a public camera (frames, images, live view), without logging in.
- Whoever holds one of its share links may read it.
- To everyone else the camera does not exist: 404, never 403, so ids leak nothing.

Changing a camera needs a login (401 without one); a camera the caller can see but does
not own answers 403. Methods block (database): call them from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from api.cameras import Camera, CameraService
from api.errors import Forbidden, NotFound, Unauthorized
from api.shares import ShareService
from api.users import User


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes a request: a logged-in user, a share-link holder, both or neither (see
    `api.callers`, which finds out)."""

    user: User | None = None
    share_token: str | None = None
    token: str | None = None
    """The bearer or session token that identified `user` (to revoke at logout)."""


@dataclass(frozen=True, slots=True)
class CameraAccess:
    camera: Camera
    is_owner: bool
    share_token: str | None
    """The share token that opened the camera (to carry on in links), None otherwise."""


class AccessPolicy:
    def __init__(self, cameras: CameraService, shares: ShareService) -> None:
        self._cameras = cameras
        self._shares = shares

    def readable(self, camera_id: str, caller: Caller) -> CameraAccess:
        """The camera if `caller` may read it; raises NotFound otherwise."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            raise _not_found()
        if caller.user is not None and caller.user.id == camera.owner_id:
            return CameraAccess(camera, is_owner=True, share_token=None)
        if camera.public:
            return CameraAccess(camera, is_owner=False, share_token=None)
        if caller.share_token and self._shares.opens(caller.share_token, camera.id):
            return CameraAccess(camera, is_owner=False, share_token=caller.share_token)
        raise _not_found()

    def owned(self, camera_id: str, caller: Caller) -> Camera:
        """The camera if `caller` owns it; raises Unauthorized, NotFound or Forbidden."""
        if caller.user is None:
            raise Unauthorized("log in to change a camera")
        access = self.readable(camera_id, caller)
        if not access.is_owner:
            raise Forbidden("only the camera's owner may change it")
        return access.camera


def _not_found() -> NotFound:
    return NotFound("no such camera")


def clip_access(access: CameraAccess, caller: Caller, clips_share: Callable[[str, str], str | None]) -> str | None:
    """Whether the caller, who may read the camera (`access`), may also make and watch
    its clips: its owner (returns None), or the holder of a share link of it that allows
    clips (returns the link's id; `clips_share(token, camera id)` finds it). Raises
    Forbidden otherwise (the camera itself is visible to the caller, so 404 would lie)."""
    if access.is_owner:
        return None
    if caller.share_token:
        share_id = clips_share(caller.share_token, access.camera.id)
        if share_id is not None:
            return share_id
    raise Forbidden("only the owner, or a share link that allows clips, may use this camera's clips")
