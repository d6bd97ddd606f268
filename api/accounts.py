"""A user's own account: what it holds, a new password, signing out everywhere, and
closing it. Methods block (database, password hashing, Kafka): call them through
`Services.run`.

Closing an account deletes each of its cameras exactly as deleting one camera does
(`CameraService.delete`: its share links go, its upload login is retracted on
`sensr.cameras`, and the catalog worker's purge removes its objects and frames), then
ends every session and token and frees the e-mail address.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.cameras import Camera, CameraService
from api.shares import ShareService
from api.tokens import TokenService
from api.users import User, UserService
from sensr.index import FrameIndex


@dataclass(frozen=True, slots=True)
class CameraHoldings:
    camera: Camera
    frames: int
    bytes: int
    share_links: int


@dataclass(frozen=True, slots=True)
class AccountHoldings:
    """What closing the account would delete."""

    cameras: list[CameraHoldings]

    @property
    def frames(self) -> int:
        return sum(held.frames for held in self.cameras)

    @property
    def bytes(self) -> int:
        return sum(held.bytes for held in self.cameras)

    @property
    def share_links(self) -> int:
        return sum(held.share_links for held in self.cameras)


class AccountService:
    def __init__(self, users: UserService, tokens: TokenService, cameras: CameraService, shares: ShareService,
                 index: FrameIndex) -> None:
        self._users = users
        self._tokens = tokens
        self._cameras = cameras
        self._shares = shares
        self._index = index

    def holdings(self, user: User) -> AccountHoldings:
        held = []
        for camera in self._cameras.owned_by(user.id):
            frames, size = self._index.totals(camera.username)
            held.append(CameraHoldings(camera, frames, size, len(self._shares.of_camera(camera))))
        return AccountHoldings(held)

    def change_password(self, user: User, current: str, new: str, keep_token: str | None) -> int:
        """Set a new password and end every other session and token (all but `keep_token`,
        the caller's); returns how many ended. Raises InvalidInput."""
        self._users.change_password(user, current, new)
        return self._tokens.revoke_all(user, keep=keep_token)

    def close(self, user: User, password: str) -> AccountHoldings:
        """Delete the account and everything it holds (see the module docstring) once
        `password` is confirmed; returns what it held. Raises InvalidInput (wrong password)
        or Unavailable (Kafka did not acknowledge a camera's deletion: what was deleted
        stays deleted, closing again finishes)."""
        self._users.confirm(user, password)
        held = self.holdings(user)
        for camera in held.cameras:
            self._cameras.delete(camera.camera)
        self._tokens.revoke_all(user)
        self._users.forget(user)
        return held
