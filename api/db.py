"""The api's own tables (users, tokens, cameras, shares) and the engine they live on.

They share the database of `load_settings().database_url()` with the frame index (SQLite
file by default, PostgreSQL when the URL says so), through one SQLAlchemy Core code path,
with their own Alembic migrations (`api/migrations`) and version table, so the api and
the catalog worker migrate independently. Table names start with `api_` so they cannot
clash with the index's.

Times are integer microseconds since the epoch (UTC), like frame timestamps: the same
in both databases, no time-zone surprises.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError

from api.errors import ApiError, Conflict, InvalidInput, Unavailable
from sensr.database import open_migrated, writer
from sensr.logs import get_logger

log = get_logger(__name__)

VERSION_TABLE = "alembic_version_api"
_MIGRATION_LOCK_KEY = 0x5E75_A919  # PostgreSQL advisory lock held while migrating
_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"

metadata = sa.MetaData()
USERS = sa.Table(
    "api_users", metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("email", sa.String(), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("time_zone", sa.String(), nullable=True),  # IANA name; None: the browser's
)
TOKENS = sa.Table(
    "api_tokens", metadata,
    sa.Column("token_hash", sa.String(), primary_key=True),
    sa.Column("user_id", sa.String(), sa.ForeignKey("api_users.id"), nullable=False, index=True),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("expires_us", sa.BigInteger(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False, server_default="api"),  # "api" or "session"
)
CAMERAS = sa.Table(
    "api_cameras", metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("owner_id", sa.String(), sa.ForeignKey("api_users.id"), nullable=False, index=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("username", sa.String(), nullable=False, unique=True),
    sa.Column("password", sa.String(), nullable=False),
    sa.Column("public", sa.Boolean(), nullable=False),
    sa.Column("retention_days", sa.Integer(), nullable=True),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("deleted_us", sa.BigInteger(), nullable=True),
    # Activity settings (migration 0002_activityapi; see api.activity_settings).
    sa.Column("sensitivity", sa.Integer(), nullable=False, server_default="5"),
    sa.Column("ignore_zones", sa.JSON(), nullable=False, server_default="[]"),
    sa.Column("event_gap_seconds", sa.Float(), nullable=False, server_default="30"),
    sa.Column("keep_what_matters", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("unmoving_keep_hours", sa.Integer(), nullable=False, server_default="24"),
    sa.Column("offline_minutes", sa.Integer(), nullable=False, server_default="10"),
    sa.Column("daily_timelapse", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("time_zone", sa.String(), nullable=False, server_default="UTC"),
)
SHARES = sa.Table(
    "api_shares", metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("camera_id", sa.String(), sa.ForeignKey("api_cameras.id"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(), nullable=False, unique=True),
    sa.Column("label", sa.String(), nullable=True),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("allow_clips", sa.Boolean(), nullable=False, server_default=sa.false()),
)
CLIPS = sa.Table(
    "api_clips", metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("camera_id", sa.String(), sa.ForeignKey("api_cameras.id"), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("day", sa.String(), nullable=True),
    sa.Column("created_by", sa.String(), nullable=True),
    sa.Column("share_id", sa.String(), nullable=True),
    sa.Column("since_us", sa.BigInteger(), nullable=False),
    sa.Column("until_us", sa.BigInteger(), nullable=False),
    sa.Column("event_id", sa.String(), nullable=True),
    sa.Column("speed", sa.String(), nullable=False),
    sa.Column("factor", sa.Float(), nullable=False),
    sa.Column("fps", sa.Float(), nullable=False),
    sa.Column("max_width", sa.Integer(), nullable=False),
    sa.Column("max_height", sa.Integer(), nullable=False),
    sa.Column("timestamp", sa.Boolean(), nullable=False),
    sa.Column("time_zone", sa.String(), nullable=False),
    sa.Column("object_key", sa.String(), nullable=False),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("frames_done", sa.Integer(), nullable=False),
    sa.Column("frames_total", sa.Integer(), nullable=False),
    sa.Column("eta_seconds", sa.Float(), nullable=True),
    sa.Column("size", sa.BigInteger(), nullable=True),
    sa.Column("duration", sa.Float(), nullable=True),
    sa.Column("reason", sa.String(), nullable=True),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("updated_us", sa.BigInteger(), nullable=False),
    sa.UniqueConstraint("camera_id", "day", name="api_clips_one_daily_per_day"),
    sa.Index("api_clips_camera_created", "camera_id", "created_us"),
)
ALERT_RULES = sa.Table(
    "api_alert_rules", metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("camera_id", sa.String(), sa.ForeignKey("api_cameras.id"), nullable=False, index=True),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("target", sa.String(), nullable=False),
    sa.Column("secret", sa.String(), nullable=True),
    sa.Column("on_start", sa.Boolean(), nullable=False),
    sa.Column("on_end", sa.Boolean(), nullable=False),
    sa.Column("on_offline", sa.Boolean(), nullable=False),
    sa.Column("on_online", sa.Boolean(), nullable=False),
    sa.Column("quiet_start", sa.String(), nullable=True),
    sa.Column("quiet_end", sa.String(), nullable=True),
    sa.Column("time_zone", sa.String(), nullable=False),
    sa.Column("spacing_seconds", sa.Integer(), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
)


def api_error(error: DBAPIError) -> ApiError | None:
    """What a request whose transaction failed with `error` is answered: a value the
    database cannot hold (one the services' validation missed) is the client's (400), a
    constraint broken by a concurrent change a conflict (409), a lost or refused
    connection the database being unavailable (503). None for anything else (a bug: 500).
    Logged without the statement's parameters, which may hold secrets."""
    kind = type(error.orig).__name__
    if isinstance(error, DataError):
        log.warning("database_refused_value", error=kind)
        return InvalidInput("a value in the request cannot be stored")
    if isinstance(error, IntegrityError):
        log.warning("database_conflict", error=kind)
        return Conflict("the request conflicts with a concurrent change; try again")
    if isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated:
        log.error("database_unavailable", error=kind)
        return Unavailable("the database did not answer; nothing was changed, try again")
    return None


def new_id(length: int = 12) -> str:
    """A random public id (12 symbols of 32 = 60 bits): short in URLs, never guessable."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


class Database:
    """The engine plus the two kinds of transaction the services use. Thread-safe: every
    transaction takes its own pooled connection (services run in a thread pool)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)

    @classmethod
    def open(cls, url: str) -> Database:
        """Connect to `sqlite:///path` or `postgresql://...` and migrate the api's tables to
        the latest revision (safe when several replicas start at once)."""
        return cls(open_migrated(url, Path(__file__).with_name("migrations"), _MIGRATION_LOCK_KEY))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (never waits for writers)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends without an exception. On
        SQLite it takes the write lock up front, so it waits for another writer instead
        of failing half-way."""
        with self._writer.begin() as conn:
            yield conn

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT 1")).scalar() == 1
