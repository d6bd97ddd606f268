"""The frame event on `sensr.frames`: the contract between the ingest edges, the
catalog worker, the live view and outside stream subscribers.

Key: the camera username (UTF-8), so one camera's frames stay ordered in one partition.
Value: the JPEG bytes, unchanged. Headers (`str` name, UTF-8 `bytes` value) carry the
metadata; `sensr-schema` says which version of this layout a record uses.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ulid import ULID

from sensr.text import has_control_characters

SCHEMA_VERSION = 1
SOURCES = frozenset({"ftp", "http", "mjpeg"})

H_SCHEMA = "sensr-schema"
H_FRAME_ID = "frame-id"
H_TIMESTAMP = "timestamp-us"
H_SOURCE = "source"
H_CLIENT = "client"
H_FILENAME = "filename"
H_STREAM_ID = "stream-id"
H_SEQUENCE = "sequence"
H_CAMERA_TIME = "camera-time-us"

Headers = list[tuple[str, bytes]]

MAX_TIMESTAMP_US = 253_402_300_799_999_999
"""The last microsecond of year 9999: the latest instant an object key can name."""
_ULID = re.compile("[0-9A-HJKMNP-TV-Z]{26}")


class FrameEventError(ValueError):
    """A record on `sensr.frames` that does not follow the frame-event contract."""


def now_us() -> int:
    """The Sensr timestamp: UTC wall-clock time in integer microseconds."""
    return time.time_ns() // 1000


def new_frame_id(timestamp_us: int) -> str:
    """A unique frame id that sorts by time: a ULID whose time part is the frame's Sensr timestamp."""
    return str(ULID.from_timestamp(timestamp_us / 1_000_000))


def content_digest(jpeg: bytes) -> bytes:
    """What makes two frames the same content: the SHA-256 of their bytes (32 bytes).
    SHA-256 because it is collision-resistant (a camera cannot make two different frames
    look the same) and, with the CPU's SHA instructions, the fastest such hash in hashlib
    (about 2 GB/s, without holding the GIL)."""
    return hashlib.sha256(jpeg).digest()


def timestamp_to_datetime(timestamp_us: int) -> datetime:
    """A Sensr timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp_us / 1_000_000, tz=timezone.utc)


@dataclass(frozen=True, slots=True)
class FrameEvent:
    """One uploaded JPEG frame and what Sensr knows about its arrival."""

    camera: str
    jpeg: bytes
    frame_id: str
    timestamp_us: int
    source: str
    client: str = ""
    filename: str | None = None
    stream_id: str | None = None
    sequence: int | None = None
    camera_time_us: int | None = None

    @classmethod
    def new(cls, camera: str, jpeg: bytes, source: str, client: str = "", **extra: object) -> "FrameEvent":
        """A frame stamped now, with a fresh frame id."""
        ts = now_us()
        return cls(camera=camera, jpeg=jpeg, frame_id=new_frame_id(ts), timestamp_us=ts,
                   source=source, client=client, **extra)  # type: ignore[arg-type]

    def key(self) -> bytes:
        return self.camera.encode()

    def headers(self) -> Headers:
        headers: Headers = [
            (H_SCHEMA, str(SCHEMA_VERSION).encode()),
            (H_FRAME_ID, self.frame_id.encode()),
            (H_TIMESTAMP, str(self.timestamp_us).encode()),
            (H_SOURCE, self.source.encode()),
            (H_CLIENT, self.client.encode()),
        ]
        optional = ((H_FILENAME, self.filename), (H_STREAM_ID, self.stream_id),
                    (H_SEQUENCE, self.sequence), (H_CAMERA_TIME, self.camera_time_us))
        headers.extend((name, str(value).encode()) for name, value in optional if value is not None)
        return headers

    @classmethod
    def from_record(cls, key: bytes | None, value: bytes | None, headers: Headers | None) -> "FrameEvent":
        """Decode a consumed record; raises FrameEventError naming what is wrong."""
        if not key:
            raise FrameEventError("missing key (camera username)")
        if value is None:
            raise FrameEventError("missing value (JPEG bytes)")
        fields = {name: raw for name, raw in headers or ()}
        schema = fields.get(H_SCHEMA)
        if schema is None:
            raise FrameEventError(f"missing header {H_SCHEMA}")
        if schema != str(SCHEMA_VERSION).encode():
            raise FrameEventError(f"unsupported schema version {schema!r}")
        try:
            frame_id = fields[H_FRAME_ID].decode()
            timestamp_us = int(fields[H_TIMESTAMP])
            source = fields[H_SOURCE].decode()
        except KeyError as missing:
            raise FrameEventError(f"missing header {missing.args[0]}") from None
        except (ValueError, UnicodeDecodeError) as bad:
            raise FrameEventError(f"bad header value: {bad}") from None
        if source not in SOURCES:
            raise FrameEventError(f"unknown source {source!r}")
        if not _ULID.fullmatch(frame_id):
            raise FrameEventError(f"frame id {frame_id[:40]!r} is not a ULID")
        if not 0 <= timestamp_us <= MAX_TIMESTAMP_US:
            raise FrameEventError(f"timestamp {timestamp_us} µs is out of range")
        try:
            event = cls(
                camera=key.decode(), jpeg=value, frame_id=frame_id, timestamp_us=timestamp_us,
                source=source, client=fields.get(H_CLIENT, b"").decode(),
                filename=_optional_str(fields.get(H_FILENAME)),
                stream_id=_optional_str(fields.get(H_STREAM_ID)),
                sequence=_optional_int(fields.get(H_SEQUENCE)),
                camera_time_us=_optional_int(fields.get(H_CAMERA_TIME)),
            )
        except (ValueError, UnicodeDecodeError) as bad:
            raise FrameEventError(f"bad header value: {bad}") from None
        names = {"key": event.camera, H_CLIENT: event.client,
                 H_FILENAME: event.filename or "", H_STREAM_ID: event.stream_id or ""}
        for name, text in names.items():
            if has_control_characters(text):
                raise FrameEventError(f"control character in {name} {text!r}")
        return event


def _optional_str(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode()


def _optional_int(raw: bytes | None) -> int | None:
    return None if raw is None else int(raw)
