"""pyftpdlib's authorizer interface over the camera-login table (`sensr.cameras`).

A camera login may create directories, store, append, rename and delete (all virtual),
list, and change directory; it may not download (`RETR`), change modes or times. There is
no anonymous access: only the logins of the table exist.
"""

from __future__ import annotations

from typing import Any

from pyftpdlib.exceptions import AuthenticationFailed

from ingest_ftp import metrics
from sensr.cameras import AuthResult, CameraTable

CAMERA_PERMS = "elmwadf"
"""pyftpdlib permission letters: e CWD, l LIST/NLST/SIZE/MDTM, m MKD, w STOR, a APPE,
d DELE/RMD, f RNFR/RNTO."""

_REFUSALS = {
    AuthResult.UNKNOWN_CAMERA: "Authentication failed.",
    AuthResult.BAD_PASSWORD: "Authentication failed.",  # the same words: no probing for camera names
    AuthResult.DISABLED: "This camera's upload login is disabled.",
}
_REVOKED = {AuthResult.BAD_PASSWORD: "changed", AuthResult.DISABLED: "disabled", AuthResult.UNKNOWN_CAMERA: "deleted"}


class CameraAuthorizer:
    """Checks camera logins against the in-memory table; every camera's home is `/`."""

    def __init__(self, table: CameraTable) -> None:
        self.table = table

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        """Raise AuthenticationFailed (pyftpdlib answers 530) unless the login is valid."""
        result = self.table.authenticate(username, password)
        if result is not AuthResult.OK:
            metrics.LOGINS.labels(result.value).inc()
            if username == "anonymous":
                raise AuthenticationFailed("Anonymous access is not allowed.")
            raise AuthenticationFailed(_REFUSALS[result])

    def revocation(self, username: str, password: str) -> str | None:
        """How a session's login stopped holding ("changed", "disabled", "deleted"; the table
        follows rotations, disables and deletions), or None while it holds."""
        return _REVOKED.get(self.table.authenticate(username, password))

    def get_home_dir(self, username: str) -> str:
        return "/"

    def has_user(self, username: str) -> bool:
        return self.table.get(username) is not None

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        return perm in CAMERA_PERMS

    def get_perms(self, username: str) -> str:
        return CAMERA_PERMS

    def get_msg_login(self, username: str) -> str:
        return "Login successful."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."

    def impersonate_user(self, username: str, password: str) -> None:
        """Nothing to switch: the file system is virtual."""

    def terminate_impersonation(self, username: str) -> None:
        """Nothing to switch back."""
