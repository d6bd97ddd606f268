"""The SQL database, one code path for SQLite and PostgreSQL (SQLAlchemy Core).

Both the frame index (`sensr/index.py`) and the api's own tables (`api/db.py`) live in
the database of `SENSR_DATABASE_URL`: a SQLite file by default, PostgreSQL (through
psycopg 3) when the URL says `postgresql://`. Each keeps its own Alembic migrations and
version table, and migrates at start-up under a lock, so several processes may start
on one database at once.
"""

from __future__ import annotations

import fcntl
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine, make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE = "sensr_write"
"""Execution option marking a write transaction (on SQLite it begins with BEGIN IMMEDIATE)."""


def make_engine(url: str) -> Engine:
    """An engine for `sqlite:///path` or `postgresql://...`, pooled and safe to share
    between threads."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend != "postgresql":
        raise ValueError(f"unsupported database {backend!r}: use sqlite:// or postgresql://")
    return sa.create_engine(parsed, pool_size=8, max_overflow=8, pool_pre_ping=True)


def writer(engine: Engine) -> Engine:
    """The same engine, for write transactions (`with writer(engine).begin() as conn`)."""
    return engine.execution_options(**{WRITE: True})


def migrate(engine: Engine, script_location: Path, lock_key: int) -> None:
    """Upgrade to the latest revision of the migrations in `script_location`, in one
    transaction that first takes a lock (SQLite's write lock, PostgreSQL's advisory lock
    `lock_key`): a process starting at the same time waits, then finds the schema current."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key)))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_migrated(url: str, script_location: Path, lock_key: int) -> Engine:
    """An engine on `url`, its schema migrated to the latest revision (see `migrate`);
    disposed again when the migration fails."""
    engine = make_engine(url)
    try:
        migrate(engine, script_location, lock_key)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _sqlite_engine(url: sa.URL) -> Engine:
    """SQLite in WAL mode (readers never wait for the writer), with a busy timeout and
    foreign keys on.

    pysqlite's own transaction handling is switched off so that SQLAlchemy says BEGIN
    itself: BEGIN IMMEDIATE for writes, which takes the write lock up front and so waits
    politely (busy timeout) instead of failing mid-transaction when another process writes.
    """
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        _switch_to_wal(Path(url.database))
    engine = sa.create_engine(url, pool_size=8, max_overflow=8)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

    return engine


def _switch_to_wal(database: Path) -> None:
    """Put the database file in WAL mode (a setting stored in the file), once per engine.

    SQLite answers "database is locked" at once, without waiting out the busy timeout,
    when two connections switch a new file to WAL at the same moment; so processes take
    turns here under an advisory lock on a side file. Once the file is in WAL mode the
    switch is a no-op that takes no lock.
    """
    with open(database.with_name(database.name + "-wal-switch.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        connection = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
        finally:
            connection.close()
