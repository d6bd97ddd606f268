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
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine, make_url

VERSION_TABLE = "alembic_version_api"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_MIGRATION_LOCK_KEY = 0x5E75_A919  # PostgreSQL advisory lock held while migrating
_WRITE = "sensr_api_write"  # execution option: a write transaction (SQLite: BEGIN IMMEDIATE)
_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"

metadata = sa.MetaData()
USERS = sa.Table(
    "api_users", metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("email", sa.String(), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
)
TOKENS = sa.Table(
    "api_tokens", metadata,
    sa.Column("token_hash", sa.String(), primary_key=True),
    sa.Column("user_id", sa.String(), sa.ForeignKey("api_users.id"), nullable=False, index=True),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("expires_us", sa.BigInteger(), nullable=False),
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
)
SHARES = sa.Table(
    "api_shares", metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("camera_id", sa.String(), sa.ForeignKey("api_cameras.id"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(), nullable=False, unique=True),
    sa.Column("label", sa.String(), nullable=True),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
)


def new_id(length: int = 12) -> str:
    """A random public id (12 symbols of 32 = 60 bits): short in URLs, never guessable."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


class Database:
    """The engine plus the two kinds of transaction the services use. Thread-safe: every
    transaction takes its own pooled connection (services run in a thread pool)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})

    @classmethod
    def open(cls, url: str) -> Database:
        """Connect to `sqlite:///path` or `postgresql://...` and migrate the api's tables to
        the latest revision (safe when several replicas start at once)."""
        database = cls(_make_engine(url))
        try:
            database._migrate()
        except BaseException:
            database.close()
            raise
        return database

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

    def _migrate(self) -> None:
        """Upgrade in one transaction that first takes a lock (SQLite's write lock,
        PostgreSQL's advisory lock): a replica starting at the same time waits, then finds
        the schema current."""
        config = Config()
        config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
        with self.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend != "postgresql":
        raise ValueError(f"unsupported database {backend!r}: use sqlite:// or postgresql://")
    return sa.create_engine(parsed, pool_size=8, max_overflow=8, pool_pre_ping=True)


def _sqlite_engine(url: sa.URL) -> Engine:
    """SQLite in WAL mode with a busy timeout and foreign keys on. pysqlite's own
    transaction handling is off so that BEGIN is ours: BEGIN IMMEDIATE for writes."""
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, pool_size=8, max_overflow=8)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine
