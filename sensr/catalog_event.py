"""The catalog event on `sensr.catalog`: the contract between the catalog worker, which
announces every frame it has stored and indexed, and its readers (the api's live
server-sent events, outside subscribers; `docs/asyncapi.yaml` describes it for them).

Key: the camera username (UTF-8), so one camera's events stay in order in one partition.
Value: a JSON object, no image bytes; no headers:

    {"v": 1, "frame_id": "01J…", "camera": "cam28", "timestamp_us": 1790000000000000,
     "size": 102400, "width": 1920, "height": 1080, "source": "ftp",
     "object_key": "cam28/2026/…jpg", "thumbnail_key": "cam28/2026/…thumb.jpg",
     "filename": "image.jpg" or null}

`v` is the schema version; the other fields are those of `sensr.index.FrameRecord`
(width and height as in the JPEG header). Delivery is at least once: a batch redone after
a crash or a retry announces its frames again, so readers deduplicate by `frame_id`.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from sensr.frames import Headers
from sensr.index import FrameRecord
from sensr.topic_json import decode_versioned

CATALOG_SCHEMA_VERSION = 1
ANNOUNCED = ("frame_id", "camera", "timestamp_us", "size", "width", "height", "source", "object_key",
             "thumbnail_key", "filename", "camera_time_us")
"""The fields of `FrameRecord` an event carries: not where the bytes are (segment, Kafka),
which is the catalog worker's business and changes when a segment is sealed; readers
fetch bytes through the api. With segments on, `object_key` and `thumbnail_key` are ""."""


class CatalogEventError(ValueError):
    """A record on `sensr.catalog` that does not follow the catalog-event contract."""


def catalog_key(record: FrameRecord) -> bytes:
    """The record key of a frame's catalog event: its camera username."""
    return record.camera.encode()


def catalog_value(record: FrameRecord) -> bytes:
    """The JSON value of a frame's catalog event."""
    fields = asdict(record)
    return json.dumps({"v": CATALOG_SCHEMA_VERSION, **{name: fields[name] for name in ANNOUNCED}},
                      separators=(",", ":")).encode()


def decode_catalog_event(key: bytes | None, value: bytes | None, headers: Headers | None = None) -> FrameRecord:
    """The stored frame a consumed catalog event announces; raises CatalogEventError
    naming what is wrong. (The key and headers add nothing to the value; they are taken
    so this decodes a record as `sensr.frames.FrameEvent.from_record` does.)"""
    fields = decode_versioned(value, CATALOG_SCHEMA_VERSION, "catalog event", CatalogEventError)
    try:
        return FrameRecord(**fields)
    except TypeError as error:
        raise CatalogEventError(f"malformed catalog event: {error}") from None
