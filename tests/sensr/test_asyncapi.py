"""docs/asyncapi.yaml, the public stream contract, checked against the AsyncAPI 3.0 JSON
schema (vendored in tests/schemas/, see the README there) and against the code that
writes the records: header names and meanings (sensr/frames.py), topic names and sizes
(sensr/broker.py), and the catalog worker's `sensr.catalog` event."""

from __future__ import annotations

import copy
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from ulid import ULID

from catalog_worker import dlq
from catalog_worker.message import KafkaPayload, Message, Partition
from sensr import broker, frames
from sensr.catalog_event import ANNOUNCED, CATALOG_SCHEMA_VERSION, catalog_value
from sensr.index import FrameRecord
from sensr.settings import CatalogSettings, CoreSettings, KafkaSettings
from sensr.storage import object_keys

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "asyncapi-3.0.0.json"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16 + b"\xff\xd9"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text())


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    return Draft7Validator(json.loads(SCHEMA.read_text()))


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """`node` with every local `$ref` replaced by what it points to (recursively)."""
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            ref = node["$ref"]
            assert ref.startswith("#/"), f"only local references are used: {ref}"
            target: Any = doc
            for part in ref[2:].split("/"):
                assert part in target, f"dangling reference {ref}"
                target = target[part]
            return resolve(doc, target)
        return {key: resolve(doc, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(doc, item) for item in node]
    return node


def schema_validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft7Validator:
    """A validator for one of the document's schemas (AsyncAPI schemas are JSON Schema draft 7)."""
    return Draft7Validator(resolve(doc, schema))


def _errors(validator: Draft7Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
            for error in validator.iter_errors(document)]


# --- The AsyncAPI specification ---------------------------------------------------------

def test_document_is_valid_asyncapi_3(doc: dict[str, Any], validator: Draft7Validator) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert _errors(validator, doc) == []


def test_schema_rejects_a_broken_document(doc: dict[str, Any], validator: Draft7Validator) -> None:
    """The vendored schema really checks, down into the Kafka bindings."""
    broken = copy.deepcopy(doc)
    broken["operations"]["publishFrame"]["action"] = "publish"  # AsyncAPI 2 wording
    assert _errors(validator, broken)
    broken = copy.deepcopy(doc)
    broken["channels"]["frames"]["bindings"]["kafka"]["partitions"] = 0
    assert _errors(validator, broken)


def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    resolve(doc, doc)


# --- Channels match the topics Sensr creates ----------------------------------------------

def test_channels_are_the_public_topics(doc: dict[str, Any]) -> None:
    addresses = {channel["address"] for channel in doc["channels"].values()}
    assert addresses == {broker.FRAMES, broker.CATALOG, broker.FRAMES_DLQ, broker.ACTIVITY, broker.CLIP_JOBS,
                         broker.CLIP_PROGRESS}
    assert broker.CAMERAS not in addresses  # internal: carries password verifiers


def test_channel_bindings_match_the_topic_specs(doc: dict[str, Any]) -> None:
    specs = {spec.name: spec for spec in broker.topic_specs(CoreSettings(), KafkaSettings())}
    for channel in doc["channels"].values():
        binding = channel["bindings"]["kafka"]
        spec = specs[channel["address"]]
        assert binding["topic"] == spec.name
        assert binding["partitions"] == spec.num_partitions
        assert binding["replicas"] == spec.replication_factor
        documented = binding.get("topicConfiguration", {}).get("max.message.bytes")
        configured = spec.topic_configs.get("max.message.bytes")
        assert documented == (int(configured) if configured else None), channel["address"]
    assert doc["channels"]["frames"]["bindings"]["kafka"]["topicConfiguration"]["max.message.bytes"] == \
        broker.max_record_bytes(CoreSettings())


def test_operations_use_the_documented_channels(doc: dict[str, Any]) -> None:
    for name, operation in doc["operations"].items():
        channel = resolve(doc, operation["channel"])
        for message in operation["messages"]:
            assert resolve(doc, message) in channel["messages"].values(), name


def test_catalog_consumer_group_is_documented(doc: dict[str, Any]) -> None:
    binding = doc["operations"]["catalogFrames"]["bindings"]["kafka"]
    assert binding["groupId"]["const"] == CatalogSettings().catalog_group_id


# --- Frame events: the doc equals sensr/frames.py -------------------------------------------

HEADER_CONSTANTS = {value for name, value in vars(frames).items() if name.startswith("H_")}


def _frame_headers_schema(doc: dict[str, Any]) -> dict[str, Any]:
    return resolve(doc, doc["components"]["messages"]["frame"]["headers"])


def test_header_names_equal_the_constants(doc: dict[str, Any]) -> None:
    assert set(_frame_headers_schema(doc)["properties"]) == HEADER_CONSTANTS


def test_required_headers_are_those_every_frame_event_carries(doc: dict[str, Any]) -> None:
    bare = frames.FrameEvent.new("cam1", JPEG, "http")
    always = {name for name, _ in bare.headers()}
    assert set(_frame_headers_schema(doc)["required"]) == always
    assert always == {frames.H_SCHEMA, frames.H_FRAME_ID, frames.H_TIMESTAMP, frames.H_SOURCE, frames.H_CLIENT}


def test_header_values_are_documented_as_the_code_writes_them(doc: dict[str, Any]) -> None:
    properties = _frame_headers_schema(doc)["properties"]
    assert properties[frames.H_SCHEMA]["const"] == str(frames.SCHEMA_VERSION)
    assert set(properties[frames.H_SOURCE]["enum"]) == set(frames.SOURCES)
    stored = resolve(doc, doc["components"]["schemas"]["frameStored"])
    assert set(stored["properties"]["source"]["enum"]) == set(frames.SOURCES)


@pytest.mark.parametrize("extra", [
    {},
    {"filename": "SensrCam2010102011073001.jpg", "camera_time_us": 1287572850010000},
    {"stream_id": frames.new_frame_id(frames.now_us()), "sequence": 0},
    {"stream_id": frames.new_frame_id(frames.now_us()), "sequence": 41},
])
@pytest.mark.parametrize("source", sorted(frames.SOURCES))
def test_real_frame_events_match_the_document(doc: dict[str, Any], source: str, extra: dict[str, Any]) -> None:
    event = frames.FrameEvent.new("cam28", JPEG, source, client="192.0.2.17", **extra)
    headers = {name: value.decode() for name, value in event.headers()}
    assert _errors(schema_validator(doc, _frame_headers_schema(doc)), headers) == []
    key_schema = doc["components"]["messages"]["frame"]["bindings"]["kafka"]["key"]
    assert _errors(Draft7Validator(key_schema), event.key().decode()) == []


def test_documented_examples_are_accepted_by_the_decoder(doc: dict[str, Any]) -> None:
    message = doc["components"]["messages"]["frame"]
    check = schema_validator(doc, message["headers"])
    assert message["examples"]
    for example in message["examples"]:
        headers = example["headers"]
        assert _errors(check, headers) == []
        event = frames.FrameEvent.from_record(b"cam28", JPEG, [(k, v.encode()) for k, v in headers.items()])
        # The frame id's time part is the Sensr timestamp (to the millisecond).
        assert ULID.from_str(event.frame_id).milliseconds == event.timestamp_us // 1000


def test_document_rejects_what_the_decoder_rejects(doc: dict[str, Any]) -> None:
    check = schema_validator(doc, _frame_headers_schema(doc))
    good = {name: value.decode() for name, value in frames.FrameEvent.new("cam1", JPEG, "ftp").headers()}
    for broken in ({**good, frames.H_SOURCE: "smtp"}, {**good, frames.H_SCHEMA: "2"},
                   {k: v for k, v in good.items() if k != frames.H_FRAME_ID},
                   {**good, frames.H_TIMESTAMP: "soon"}):
        assert _errors(check, broken)
        with pytest.raises(frames.FrameEventError):
            frames.FrameEvent.from_record(b"cam1", JPEG, [(k, v.encode()) for k, v in broken.items()])


# --- sensr.catalog: the doc equals what the catalog worker publishes --------------------------

def test_catalog_example_matches_its_schema(doc: dict[str, Any]) -> None:
    message = doc["components"]["messages"]["frameStored"]
    check = schema_validator(doc, message["payload"])
    for example in message["examples"]:
        assert _errors(check, example["payload"]) == []


def test_catalog_event_fields_equal_what_the_worker_publishes(doc: dict[str, Any]) -> None:
    schema = resolve(doc, doc["components"]["messages"]["frameStored"]["payload"])
    published = {"v", *ANNOUNCED}
    assert published < {"v"} | {field.name for field in fields(FrameRecord)}
    assert set(schema["properties"]) == published
    assert set(schema["required"]) == published  # the worker always writes every field (filename may be null)
    assert schema["properties"]["v"]["const"] == CATALOG_SCHEMA_VERSION

    event = frames.FrameEvent.new("cam28", JPEG, "ftp", filename="a.jpg")
    original, thumbnail = object_keys(event.camera, event.timestamp_us, event.frame_id)
    for filename in ("a.jpg", None):
        record = FrameRecord(frame_id=event.frame_id, camera=event.camera, timestamp_us=event.timestamp_us,
                             size=len(JPEG), width=640, height=480, source=event.source, object_key=original,
                             thumbnail_key=thumbnail, filename=filename)
        assert _errors(schema_validator(doc, schema), json.loads(catalog_value(record))) == []
    example = doc["components"]["messages"]["frameStored"]["examples"][0]["payload"]
    assert (example["object_key"], example["thumbnail_key"]) == object_keys(
        example["camera"], example["timestamp_us"], example["frame_id"])


def test_dead_letter_headers_equal_what_the_worker_writes(doc: dict[str, Any]) -> None:
    schema = resolve(doc, doc["components"]["messages"]["deadFrame"]["headers"])
    assert set(schema["required"]) == set(schema["properties"]) == {dlq.H_KIND, dlq.H_REASON, dlq.H_ORIGIN}
    assert set(schema["properties"][dlq.H_KIND]["enum"]) == set(dlq.KINDS)
    original = frames.FrameEvent.new("cam28", b"not a jpeg", "http")
    record = Message(Partition(broker.FRAMES, 3), 1204, KafkaPayload(original.key(), original.jpeg, original.headers()))
    letter = dlq.DeadLetter(record, "bad_jpeg", "not a JPEG: no SOI marker")
    headers = {name: value.decode() for name, value in letter.headers()}
    assert _errors(schema_validator(doc, schema), headers) == []
    assert headers[dlq.H_ORIGIN] == "sensr.frames/3/1204"
    assert doc["channels"]["framesDeadLetter"]["address"] == broker.FRAMES_DLQ


# --- sensr.activity: the doc equals what the activity worker publishes ------------------------

def test_activity_examples_and_every_kind_of_record_match_the_schema(doc: dict[str, Any]) -> None:
    from sensr.activity import (ActivityRecord, Event, EventRecord, FrameLocation, PresenceRecord, Transition,
                                activity_value, decode_activity_record)
    message = doc["components"]["messages"]["activityRecord"]
    check = schema_validator(doc, message["payload"])
    for example in message["examples"]:
        assert _errors(check, example["payload"]) == []
        decode_activity_record(b"cam28", json.dumps(example["payload"]).encode())
    event = Event("01KAW7HFHV0000000000000000", "cam28", 1, 2, 3, 2, 4.5, "01KAW7HFHV50WXQ5X1XCTPP7TP")
    records: list[ActivityRecord] = [EventRecord(transition, event) for transition in Transition]
    records += [EventRecord(transition, event, FrameLocation(3, 91207)) for transition in Transition]
    records += [PresenceRecord("cam28", online, "01KAW7HFHV50WXQ5X1XCTPP7TP", 1, 2) for online in (False, True)]
    for record in records:
        assert _errors(check, json.loads(activity_value(record))) == [], record.type
    assert doc["operations"]["scoreFrames"]["bindings"]["kafka"]["groupId"]["const"] == "activity"
def test_clip_records_match_the_document(doc: dict[str, Any]) -> None:
    """What the api and the clip workers publish is what the document describes."""
    from jsonschema import Draft202012Validator

    from sensr.clips import ClipJob, ClipProgress
    job = ClipJob(job_id="abc", camera="cam1", since_us=1, until_us=2, object_key="cam1/clips/abc.mp4")
    progress = ClipProgress(job_id="abc", camera="cam1", state="ready", frames_done=3, frames_total=3, size=10,
                            duration=0.1, updated_us=5)
    for schema, record in (("clipJob", job.value()), ("clipProgress", progress.value())):
        Draft202012Validator(doc["components"]["schemas"][schema]).validate(json.loads(record))
