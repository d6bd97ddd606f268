"""Cameras and their upload logins: the api is the only writer of `sensr.cameras`.

Each camera has a public id (in URLs), a name, and the seed's three pieces of upload
login: HOST (the ingest edges' public host), USERNAME (`cam` + random symbols, unique
for ever: deleted cameras keep theirs, so a new camera never inherits old frames) and a
server-generated PASSWORD. The password is kept in plain text because the owner must be
able to read it back, as the seed shows; the edges only ever see a salted verifier.

Every change is written to the database and published to `sensr.cameras` together: the
record is published (and acknowledged by Kafka) inside the database transaction, which
commits only afterwards. So a failed publish leaves nothing changed anywhere (503), and
in the rare case that the commit fails after the publish, the previous record is
published again. Methods block (database, Kafka): call them from a worker thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from kafka.errors import KafkaError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from api.activity_settings import FIELDS as ACTIVITY_FIELDS
from api.activity_settings import Zone, validate_activity
from api.db import CAMERAS, SHARES, Database, new_id
from api.errors import InvalidInput, NotFound, Unavailable
from api.text import plain_text
from sensr.cameras import CameraLogin, new_upload_password, publish_deletion, publish_login
from sensr.frames import now_us
from sensr.logs import get_logger
from sensr.settings import Settings

log = get_logger(__name__)
USERNAME_PREFIX = "cam"
MAX_NAME_LENGTH = 100
MAX_RETENTION_DAYS = 36_500
_USERNAME_ATTEMPTS = 5
_MUTABLE = ("name", "password", "public", "retention_days", "enabled", *ACTIVITY_FIELDS, "daily_timelapse",
            "time_zone")


@dataclass(frozen=True, slots=True)
class Camera:
    id: str
    owner_id: str
    name: str
    username: str
    password: str
    public: bool
    retention_days: int | None
    enabled: bool
    created_us: int
    sensitivity: int = 5
    ignore_zones: tuple[Zone, ...] = ()
    event_gap_seconds: float = 30.0
    keep_what_matters: bool = False
    unmoving_keep_hours: int = 24
    offline_minutes: int = 10
    daily_timelapse: bool = False
    """Make a time-lapse of each day, once it has ended in `time_zone`."""
    time_zone: str = "UTC"
    """The owner's time zone for this camera's days (IANA name)."""


@dataclass(frozen=True, slots=True)
class UploadLogin:
    """What the owner types into a camera: the seed's HOST, USERNAME and PASSWORD, and the
    upload URLs that carry them."""

    host: str
    username: str
    password: str
    ftp_url: str
    photo_url: str
    mjpeg_url: str


def upload_login(camera: Camera, settings: Settings) -> UploadLogin:
    host = settings.core.public_host
    user, password = quote(camera.username, safe=""), quote(camera.password, safe="")
    ftp = _authority(user, password, host, settings.ftp.ftp_port, default_port=21)
    http = _authority(user, password, host, settings.http.http_port, default_port=80)
    return UploadLogin(host=host, username=camera.username, password=camera.password,
                       ftp_url=f"ftp://{ftp}/", photo_url=f"http://{http}/photo/{user}",
                       mjpeg_url=f"http://{http}/upload/{user}")


def _authority(user: str, password: str, host: str, port: int, default_port: int) -> str:
    bracketed = f"[{host}]" if ":" in host else host
    return f"{user}:{password}@{bracketed}" + ("" if port == default_port else f":{port}")


def validate_name(name: str) -> str:
    cleaned = " ".join(plain_text(name, "name").split())
    if not cleaned:
        raise InvalidInput("name must not be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name must be at most {MAX_NAME_LENGTH} characters long")
    return cleaned


def validate_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("time_zone must be an IANA time zone name, e.g. Europe/Paris") from None
    return name


def validate_retention(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"retention_days must be between 1 and {MAX_RETENTION_DAYS}, or null for the default")
    return days


class LoginPublisher:
    """Publishes camera logins to `sensr.cameras` and waits for Kafka's acknowledgement."""

    def __init__(self, producer: Any, timeout: float) -> None:
        self._producer = producer
        self._timeout = timeout

    def publish(self, camera: Camera) -> None:
        login = CameraLogin.create(camera.username, camera_id=camera.id, owner_id=camera.owner_id,
                                   password=camera.password, enabled=camera.enabled,
                                   retention_days=camera.retention_days, name=camera.name,
                                   **{name: getattr(camera, name) for name in ACTIVITY_FIELDS})
        publish_login(self._producer, login, timeout=self._timeout)

    def retract(self, username: str) -> None:
        publish_deletion(self._producer, username, timeout=self._timeout)


class CameraService:
    def __init__(self, db: Database, publisher: LoginPublisher) -> None:
        self._db = db
        self._publisher = publisher

    def create(self, owner_id: str, name: str, *, public: bool = False, retention_days: int | None = None,
               enabled: bool = True) -> Camera:
        """A new camera with a fresh upload login, on `sensr.cameras` when this returns."""
        for _ in range(_USERNAME_ATTEMPTS):
            camera = Camera(id=new_id(), owner_id=owner_id, name=validate_name(name),
                            username=USERNAME_PREFIX + new_id(8), password=new_upload_password(),
                            public=public, retention_days=validate_retention(retention_days),
                            enabled=enabled, created_us=now_us())
            published = False
            try:
                with _told_in_time(), self._db.write() as conn:
                    conn.execute(sa.insert(CAMERAS).values(**dataclasses.asdict(camera)))
                    self._publisher.publish(camera)
                    published = True
            except IntegrityError:
                continue  # an id or username taken by chance: draw again
            except SQLAlchemyError:
                if published:
                    self._put_back(camera.username, None)
                raise
            return camera
        raise Unavailable("could not allocate a camera login; try again")

    def get(self, camera_id: str) -> Camera | None:
        with self._db.read() as conn:
            row = conn.execute(_live(camera_id)).first()
        return None if row is None else _camera(row)

    def owned_by(self, owner_id: str) -> list[Camera]:
        """A user's cameras, oldest first."""
        query = (sa.select(CAMERAS).where(CAMERAS.c.owner_id == owner_id, CAMERAS.c.deleted_us.is_(None))
                 .order_by(CAMERAS.c.created_us, CAMERAS.c.id))
        with self._db.read() as conn:
            return [_camera(row) for row in conn.execute(query)]

    def update(self, camera: Camera, **changes: Any) -> Camera:
        """Change any of name, public, retention_days, enabled, the activity settings
        (`api.activity_settings`), daily_timelapse and time_zone, validated here."""
        unknown = set(changes) - {"name", "public", "retention_days", "enabled", *ACTIVITY_FIELDS, "daily_timelapse",
                                  "time_zone"}
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
        if "name" in changes:
            changes["name"] = validate_name(changes["name"])
        if "retention_days" in changes:
            changes["retention_days"] = validate_retention(changes["retention_days"])
        changes.update(validate_activity(changes))
        if "time_zone" in changes:
            changes["time_zone"] = validate_time_zone(changes["time_zone"])
        if not changes:
            return camera
        updated = self._change(camera.id, lambda current: dataclasses.replace(current, **changes))
        assert updated is not None
        return updated

    def rotate_password(self, camera: Camera) -> Camera:
        """A new upload password; the old one is refused by the edges as soon as they read
        `sensr.cameras` past this change (published when this returns)."""
        rotated = self._change(camera.id, lambda current: dataclasses.replace(current, password=new_upload_password()))
        assert rotated is not None
        return rotated

    def delete(self, camera: Camera) -> None:
        """Remove the camera, its share links and (tombstone) its upload login. The row
        stays, without password, to keep the username taken."""
        self._change(camera.id, lambda current: None)

    def _change(self, camera_id: str, mutate: Callable[[Camera], Camera | None]) -> Camera | None:
        """Apply `mutate` to the camera as stored (None: delete it) and publish the result,
        in one transaction that holds the camera's row: concurrent changes of one camera
        reach the database and `sensr.cameras` in the same order, each built on the last.
        Raises NotFound, or Unavailable when Kafka did not acknowledge (nothing changed)."""
        before: Camera | None = None
        published = False
        try:
            with _told_in_time(), self._db.write() as conn:
                row = conn.execute(_live(camera_id).with_for_update()).first()
                if row is None:
                    raise NotFound("no such camera")
                before = _camera(row)
                after = mutate(before)
                if after is None:
                    conn.execute(sa.delete(SHARES).where(SHARES.c.camera_id == camera_id))
                    conn.execute(sa.update(CAMERAS).where(CAMERAS.c.id == camera_id)
                                 .values(deleted_us=now_us(), password=""))
                    self._publisher.retract(before.username)
                else:
                    conn.execute(sa.update(CAMERAS).where(CAMERAS.c.id == camera_id).values(
                        {name: getattr(after, name) for name in _MUTABLE}))
                    self._publisher.publish(after)
                published = True
        except SQLAlchemyError:
            if published and before is not None:
                self._put_back(before.username, before)
            raise
        return after

    def _put_back(self, username: str, camera: Camera | None) -> None:
        """After a commit failed behind a publish: publish again what the database still
        says (`camera`, or a tombstone when it has no such camera)."""
        try:
            if camera is None:
                self._publisher.retract(username)
            else:
                self._publisher.publish(camera)
        except KafkaError as error:
            log.error("camera_login_put_back_failed", username=username, error=str(error))


@contextmanager
def _told_in_time() -> Iterator[None]:
    """Turns Kafka's failure to acknowledge into Unavailable (the transaction rolls back)."""
    try:
        yield
    except KafkaError as error:
        raise Unavailable(f"the upload hosts could not be told in time ({type(error).__name__}); "
                          "nothing was changed, try again") from error


def _live(camera_id: str) -> sa.Select[Any]:
    return sa.select(CAMERAS).where(CAMERAS.c.id == camera_id, CAMERAS.c.deleted_us.is_(None))


def _camera(row: sa.Row[Any]) -> Camera:
    camera = Camera(**{field.name: getattr(row, field.name) for field in dataclasses.fields(Camera)})
    return dataclasses.replace(camera, ignore_zones=tuple(tuple(zone) for zone in camera.ignore_zones))
