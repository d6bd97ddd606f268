"""Camera logins over HTTP Basic authentication, mapped onto the seed's status codes.

The seed's URL is `http://USERNAME:PASSWORD@HOST/photo/USERNAME`: the name in the path
picks the camera, the Basic credentials prove the right to upload to it. They must name
the same camera: credentials of camera A never upload to camera B, even with A's
correct password (401). Order of checks, so that a wrong password reveals nothing the
seed does not already say:

* no (or an unreadable) Authorization header: 401 with a challenge (wget and ffmpeg
  send credentials only after it); this is not a failed login;
* the camera in the path does not exist: 404 (the seed's contract);
* other username, or wrong password: 401 with a challenge;
* correct password of a disabled camera: 403.

A login is checked when a request starts, and `HeldLogin` checks it again whenever the
camera's record changes while an upload is open (a rotated password, a disabled or
deleted camera ends it).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from sensr.cameras import AuthResult, CameraLogin, CameraTable

CHALLENGE = 'Basic realm="Sensr", charset="UTF-8"'


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str


def parse_basic(header: str | None) -> Credentials | None:
    """The credentials of a `Basic` Authorization header, or None when absent or malformed.

    RFC 7617 leaves the charset open: UTF-8 is tried first, then Latin-1.
    """
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        raw = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    username, colon, password = text.partition(":")
    if not colon:
        return None
    return Credentials(username, password)


@dataclass(frozen=True, slots=True)
class LoginDenied:
    """Why an upload may not proceed: HTTP status, metric reason, message for the client."""

    status: int
    reason: str
    message: str

    @property
    def failed_login(self) -> bool:
        """True for guesses that count against the address (not a missing header, not 403)."""
        return self.reason in ("unknown_camera", "bad_password")


def check_login(cameras: CameraTable, camera: str, credentials: Credentials | None) -> LoginDenied | None:
    """None when `credentials` may upload to `camera`; else why not."""
    if credentials is None:
        return LoginDenied(401, "unauthorized", "this upload needs the camera's login (HTTP Basic authentication)")
    login = cameras.get(camera)
    if login is None:
        return LoginDenied(404, "unknown_camera", f"camera {camera!r} does not exist")
    if credentials.username != camera:
        result = AuthResult.BAD_PASSWORD
    else:
        result = cameras.authenticate(credentials.username, credentials.password)
    if result is AuthResult.UNKNOWN_CAMERA:  # deleted between the two look-ups
        return LoginDenied(404, "unknown_camera", f"camera {camera!r} does not exist")
    if result is AuthResult.BAD_PASSWORD:
        return LoginDenied(401, "bad_password", "the user name or password does not match this camera")
    if result is AuthResult.DISABLED:
        return LoginDenied(403, "disabled", f"camera {camera!r} is disabled")
    return None


class HeldLogin:
    """The login of an open upload, re-checked against the camera table at will.

    `revoked()` costs one dict lookup while the camera's record is the one the login was
    checked against, so it can run before every publish; only a changed record (a new
    password, disabled, deleted, or any other edit) checks the credentials again.
    """

    __slots__ = ("_cameras", "_camera", "_credentials", "_record")

    def __init__(self, cameras: CameraTable, camera: str, credentials: Credentials,
                 record: CameraLogin | None) -> None:
        """`record` is the camera's record as read before `check_login` accepted the
        credentials (read before: a change in between is then checked again)."""
        self._cameras, self._camera, self._credentials = cameras, camera, credentials
        self._record = record

    def revoked(self) -> LoginDenied | None:
        """None while the credentials may still upload to the camera; else why not."""
        record = self._cameras.get(self._camera)
        if record is self._record:
            return None
        denied = check_login(self._cameras, self._camera, self._credentials)
        if denied is None:
            self._record = record
        return denied
