"""Share links: a secret token that gives read access (frames, images, live view) to one
camera, until its owner revokes it. Only the token's SHA-256 is stored, as for bearer
tokens: the link is shown once, at creation. Methods block: call them from a worker thread.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from api.cameras import Camera
from api.db import CAMERAS, SHARES, Database, new_id
from api.errors import InvalidInput
from api.text import plain_text
from api.tokens import token_hash
from sensr.frames import now_us

SHARE_PREFIX = "shr_"
MAX_LABEL_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Share:
    id: str
    camera_id: str
    label: str | None
    created_us: int
    allow_clips: bool = False


class ShareService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, camera: Camera, label: str | None = None, allow_clips: bool = False) -> tuple[Share, str]:
        """A new share link of `camera`: the share and its token (not retrievable later)."""
        if label is not None:
            label = " ".join(plain_text(label, "label").split()) or None
            if label and len(label) > MAX_LABEL_LENGTH:
                raise InvalidInput(f"label must be at most {MAX_LABEL_LENGTH} characters long")
        token = SHARE_PREFIX + secrets.token_urlsafe(32)
        share = Share(id=new_id(), camera_id=camera.id, label=label, created_us=now_us(), allow_clips=allow_clips)
        with self._db.write() as conn:
            conn.execute(sa.insert(SHARES).values(id=share.id, camera_id=share.camera_id, label=share.label,
                                                  created_us=share.created_us, token_hash=token_hash(token),
                                                  allow_clips=allow_clips))
        return share, token

    def of_camera(self, camera: Camera) -> list[Share]:
        query = (sa.select(SHARES.c.id, SHARES.c.camera_id, SHARES.c.label, SHARES.c.created_us, SHARES.c.allow_clips)
                 .where(SHARES.c.camera_id == camera.id).order_by(SHARES.c.created_us, SHARES.c.id))
        with self._db.read() as conn:
            return [Share(**row._mapping) for row in conn.execute(query)]

    def revoke(self, camera: Camera, share_id: str) -> bool:
        """Delete one share link of `camera`; False when it has no such link."""
        with self._db.write() as conn:
            deleted = conn.execute(sa.delete(SHARES).where(SHARES.c.id == share_id, SHARES.c.camera_id == camera.id))
        return deleted.rowcount > 0

    def opens(self, token: str, camera_id: str) -> bool:
        """True when `token` is a live share link of the (undeleted) camera `camera_id`."""
        query = (sa.select(SHARES.c.id).join(CAMERAS, CAMERAS.c.id == SHARES.c.camera_id)
                 .where(SHARES.c.token_hash == token_hash(token), SHARES.c.camera_id == camera_id,
                        CAMERAS.c.deleted_us.is_(None)))
        with self._db.read() as conn:
            return conn.execute(query).first() is not None

    def clips_share(self, token: str, camera_id: str) -> str | None:
        """The id of the share link `token` when it is a live link of the camera
        `camera_id` that allows clips; None otherwise."""
        query = (sa.select(SHARES.c.id).join(CAMERAS, CAMERAS.c.id == SHARES.c.camera_id)
                 .where(SHARES.c.token_hash == token_hash(token), SHARES.c.camera_id == camera_id,
                        SHARES.c.allow_clips, CAMERAS.c.deleted_us.is_(None)))
        with self._db.read() as conn:
            return conn.execute(query).scalar()
