"""Where the catalog worker turns library exceptions into its own two kinds of failure.

- `TransientError`: a dependency is down or refusing for now (connection lost,
  timeout, lock, server error): the batch is redone later, nothing is committed.
- `RecordRefused`: the database refuses a value of this record and always will (a NUL
  in a text field, an integer out of range, a constraint): retrying cannot help, so the
  record is dead-lettered and the rest of its batch goes on.

Library exceptions are mapped here and nowhere else (as httpx maps its transports'
exceptions in one place), each by a context manager around the call into the library:
`index_errors` (rows a record sent), `index_unavailable` (queries no record can be blamed
for), `storage_errors`, `broker_errors`. The steps speak only of these two. (The
consumer loop handles the commit's own errors; start-up, in `service`, waits out the
exceptions that mean "not up yet".)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kafka.errors import KafkaError
from minio.error import MinioException
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from urllib3.exceptions import HTTPError

from sensr.logs import first_line

# What the database (or its driver, before sending) refuses in a value, whatever the retry:
# DataError (PostgreSQL: NUL in text, integer out of range), IntegrityError (a constraint;
# re-delivery is not one, inserts ignore existing frame ids), and the drivers' own
# refusals raised while binding (sqlite3: OverflowError for an integer over 64 bits;
# psycopg: UnicodeEncodeError for a lone surrogate).
_REFUSED = (DataError, IntegrityError, OverflowError, UnicodeEncodeError)
_LIMIT_EXCEEDED = "54"
"""PostgreSQL's SQLSTATE class `program_limit_exceeded` (e.g. a value too large for an
index entry): raised as an OperationalError, but a property of the values sent."""
STORE_ERRORS = (MinioException, HTTPError, OSError)
"""Errors that mean "the object store is unreachable or refusing": retry the batch later."""


class TransientError(Exception):
    """A dependency is unavailable; the batch must be redone later and nothing committed."""

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(f"{dependency} unavailable: {message}")
        self.dependency = dependency


class RecordRefused(Exception):
    """The index database refuses a record's values; no retry will change that."""


@contextmanager
def index_errors() -> Iterator[None]:
    """Map the index database's exceptions: a value it refuses → RecordRefused; anything
    else it raises (connection, timeout, lock, schema) → TransientError("index")."""
    try:
        yield
    except _REFUSED as error:
        raise RecordRefused(first_line(error)) from error
    except DBAPIError as error:
        if str(getattr(error.orig, "sqlstate", "") or "").startswith(_LIMIT_EXCEEDED):
            raise RecordRefused(first_line(error)) from error
        raise TransientError("index", first_line(error)) from error
    except PoolTimeout as error:
        raise TransientError("index", first_line(error)) from error


@contextmanager
def index_unavailable() -> Iterator[None]:
    """Map every exception of the index database to TransientError("index"): for queries
    whose values were not sent by a record (content claims by digest and frame id), so that
    there is no record to single out as refused."""
    try:
        yield
    except (DBAPIError, PoolTimeout) as error:
        raise TransientError("index", first_line(error)) from error


@contextmanager
def storage_errors() -> Iterator[None]:
    """Map the object store's exceptions to TransientError("storage")."""
    try:
        yield
    except STORE_ERRORS as error:
        raise TransientError("storage", first_line(error)) from error


@contextmanager
def broker_errors(doing: str) -> Iterator[None]:
    """Map Kafka's exceptions while `doing` something to TransientError("kafka")."""
    try:
        yield
    except KafkaError as error:
        raise TransientError("kafka", f"{doing}: {error}") from error
