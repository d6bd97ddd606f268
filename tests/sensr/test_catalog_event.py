"""The `sensr.catalog` event (sensr/catalog_event.py): what the catalog worker encodes,
the api and outside readers decode, field for field; anything else is refused by name."""

from __future__ import annotations

import json

import pytest

from sensr.catalog_event import (CATALOG_SCHEMA_VERSION, CatalogEventError, catalog_key, catalog_value,
                                 decode_catalog_event)
from sensr.frames import new_frame_id
from sensr.index import FrameRecord
from sensr.storage import object_keys

TIMESTAMP_US = 1_790_000_000_123_456


def stored_frame(filename: str | None = "image.jpg") -> FrameRecord:
    frame_id = new_frame_id(TIMESTAMP_US)
    image_key, thumbnail_key = object_keys("cam28", TIMESTAMP_US, frame_id)
    return FrameRecord(frame_id=frame_id, camera="cam28", timestamp_us=TIMESTAMP_US, size=102_400, width=1920,
                       height=1080, source="ftp", object_key=image_key, thumbnail_key=thumbnail_key,
                       filename=filename)


@pytest.mark.parametrize("filename", ["image.jpg", None])
def test_a_catalog_event_decodes_to_the_frame_it_announces(filename: str | None) -> None:
    record = stored_frame(filename)
    key, value = catalog_key(record), catalog_value(record)
    assert key == b"cam28"
    assert decode_catalog_event(key, value, []) == record


def test_the_value_is_a_versioned_json_object_without_image_bytes() -> None:
    value = json.loads(catalog_value(stored_frame()))
    assert value["v"] == CATALOG_SCHEMA_VERSION
    assert value["camera"] == "cam28" and value["timestamp_us"] == TIMESTAMP_US and value["filename"] == "image.jpg"


@pytest.mark.parametrize(("value", "reason"), [
    (None, "empty"),
    (b"\xff\xd8 a JPEG", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"frame_id": "x"}).encode(), "version"),
    (json.dumps({"v": CATALOG_SCHEMA_VERSION + 1}).encode(), "version"),
    (json.dumps({"v": CATALOG_SCHEMA_VERSION, "frame_id": "x"}).encode(), "malformed"),
    (json.dumps({"v": CATALOG_SCHEMA_VERSION, "colour": "red",
                 **{k: v for k, v in json.loads(catalog_value(stored_frame())).items() if k != "v"}}).encode(),
     "malformed"),
])
def test_what_is_not_a_catalog_event_is_refused_by_name(value: bytes | None, reason: str) -> None:
    with pytest.raises(CatalogEventError, match=reason):
        decode_catalog_event(b"cam28", value, [])
