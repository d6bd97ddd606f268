"""Segments (`catalog_worker.segments`): frames packed per camera into segment objects,
sealed by age or size, read back by range through `sensr.frame_reader`, offsets held
below unsealed frames, stale segments swept; and the worker itself in segments mode
(real Kafka, SeaweedFS and SQLite; the worker as a subprocess)."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import NewTopic
from minio import Minio

from api.frame_removal import FrameRemover
from catalog_worker.consumer import ConsumerLoop
from catalog_worker.errors import TransientError
from catalog_worker.frames_retention import RetentionTooShort, check_frames_retention, required_retention_ms
from catalog_worker.message import KafkaPayload, Message, Partition
from catalog_worker.segments import PackedFrame, SegmentBuilder, StaleSegmentSweeper
from sensr.broker import FRAMES
from sensr.frame_reader import FrameReader
from sensr.frames import now_us
from sensr.index import FrameIndex, FrameRecord, Segment
from sensr.kafka_frames import KafkaFrames
from sensr.segments import segment_key
from sensr.storage import ensure_bucket, remove_objects
from tests.support.catalog_worker import Worker, all_rows, frames_for, object_names, produce, s3_client, wait_for
from tests.support.fake_consumer import FakeConsumer
from tests.support.kafka_tap import register_camera

P0 = Partition(FRAMES, 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Parts:
    client: Minio
    bucket: str
    index: FrameIndex
    clock: Clock
    builders: list[SegmentBuilder] = field(default_factory=list)

    def builder(self, max_age: float = 60, max_bytes: int = 8 << 20) -> SegmentBuilder:
        builder = SegmentBuilder(self.client, self.bucket, self.index, max_age, max_bytes, clock=self.clock)
        self.builders.append(builder)
        return builder

    def reader(self) -> FrameReader:
        return FrameReader(self.client, self.bucket)


@pytest.fixture(params=["sqlite", "postgresql"])
def parts(request: pytest.FixtureRequest, stack_env: dict[str, str]) -> Iterator[Parts]:
    client, bucket = s3_client(stack_env), stack_env["SENSR_S3_BUCKET"]
    ensure_bucket(client, bucket)
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else stack_env["SENSR_DATABASE_URL"]
    index = FrameIndex.open(url)
    built = Parts(client, bucket, index, Clock())
    try:
        yield built
    finally:
        for builder in built.builders:
            builder.close()
        index.close()


def frames(camera: str, count: int, start_offset: int = 0, size: int = 3000) -> list[PackedFrame]:
    base = now_us()
    return [PackedFrame(f"{camera}-{uuid.uuid4().hex}", camera, base + i * 1_000_000, P0, start_offset + i,
                        bytes([i % 251]) * (size + i), bytes([(i + 7) % 251]) * (100 + i)) for i in range(count)]


def index_unsealed(index: FrameIndex, packed: Sequence[PackedFrame]) -> None:
    """The rows the pipeline writes before packing: located in Kafka."""
    index.add([FrameRecord(f.frame_id, f.camera, f.timestamp_us, len(f.jpeg), 1, 1, "http", "", "",
                           kafka_partition=f.partition.index, kafka_offset=f.offset,
                           thumbnail_partition=0, thumbnail_kafka_offset=f.offset) for f in packed])


class CountingClient:
    """The minio client, counting object GETs."""

    def __init__(self, client: Minio) -> None:
        self._client = client
        self.gets = 0

    def get_object(self, *args: Any, **kwargs: Any) -> Any:
        self.gets += 1
        return self._client.get_object(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


# -- packing, ranged reads -------------------------------------------------------------------

def test_each_camera_gets_its_own_segment_and_every_frame_reads_back_by_range(parts: Parts) -> None:
    cam_a, cam_b = f"a{uuid.uuid4().hex[:8]}", f"b{uuid.uuid4().hex[:8]}"
    packed = frames(cam_a, 40) + frames(cam_b, 25, start_offset=100)
    index_unsealed(parts.index, packed)
    builder = parts.builder()
    builder.add(packed)
    assert builder.seal_all() == 2

    for camera, count in ((cam_a, 40), (cam_b, 25)):
        [name] = object_names(parts.client, parts.bucket, camera)  # one object holds all the camera's frames
        rows = all_rows(parts.index, camera)
        assert len(rows) == count and {row.segment_key for row in rows} == {name}
        [segment] = parts.index.camera_segments(camera)
        assert segment.sealed and segment.frames == count
    counting = CountingClient(parts.client)
    reader = FrameReader(counting, parts.bucket)  # type: ignore[arg-type]
    by_id = {f.frame_id: f for f in packed}
    for camera in (cam_a, cam_b):
        for row in all_rows(parts.index, camera):
            assert reader.original(row) == by_id[row.frame_id].jpeg
    assert counting.gets == len(packed)  # one ranged GET per original
    counting.gets = 0
    for camera in (cam_a, cam_b):
        for row in all_rows(parts.index, camera):
            assert reader.thumbnail(row) == by_id[row.frame_id].thumbnail
    assert counting.gets == 2  # a page of thumbnails: one GET per segment, not per frame


def test_frames_stored_before_segments_stay_readable(parts: Parts) -> None:
    camera = f"c{uuid.uuid4().hex[:8]}"
    for key, data in ((f"{camera}/old.jpg", b"original"), (f"{camera}/old.thumb.jpg", b"thumb")):
        parts.client.put_object(parts.bucket, key, io.BytesIO(data), len(data))
    row = FrameRecord("f1", camera, 1, 8, 1, 1, "ftp", f"{camera}/old.jpg", f"{camera}/old.thumb.jpg")
    assert (parts.reader().original(row), parts.reader().thumbnail(row)) == (b"original", b"thumb")


def test_unsealed_frames_are_read_from_kafka(kafka_bootstrap: str, parts: Parts, unique_name: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(unique_name, 1, 1)])
    finally:
        admin.close()
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    meta = producer.send(unique_name, b"jpeg bytes").get(timeout=10)
    producer.close()
    kafka = KafkaFrames(kafka_bootstrap, 2)
    try:
        assert kafka.read(unique_name, meta.partition, meta.offset).value == b"jpeg bytes"
    finally:
        kafka.close()


# -- sealing ----------------------------------------------------------------------------------

def test_a_segment_is_sealed_when_its_first_frame_is_max_age_old(parts: Parts) -> None:
    camera = f"c{uuid.uuid4().hex[:8]}"
    builder = parts.builder(max_age=60)
    first, later = frames(camera, 3), frames(camera, 2, start_offset=3)
    index_unsealed(parts.index, first + later)
    builder.add(first)
    parts.clock.now += 59
    builder.add(later)
    assert builder.seal_due() == 0 and builder.low_water() == {P0: 0}
    assert object_names(parts.client, parts.bucket, camera) == []
    parts.clock.now += 1
    builder.seal_due()  # started, not waited for
    assert builder.settle() == 1
    assert builder.low_water() == {}
    assert {row.segment_key for row in all_rows(parts.index, camera)} == set(object_names(parts.client, parts.bucket,
                                                                                            camera))


def test_a_segment_is_sealed_early_when_it_reaches_max_bytes(parts: Parts) -> None:
    camera = f"c{uuid.uuid4().hex[:8]}"
    builder = parts.builder(max_age=3600, max_bytes=20_000)
    packed = frames(camera, 10, size=3000)  # about 31 KB with thumbnails
    index_unsealed(parts.index, packed)
    builder.add(packed[:5])
    assert builder.seal_due() == 0
    builder.add(packed[5:])
    builder.seal_due()
    assert builder.settle() == 1 and builder.low_water() == {}


class HeldClient:
    """The minio client, whose object writes wait until `release` (or fail, with `fail`)."""

    def __init__(self, client: Minio) -> None:
        self._client = client
        self.release = threading.Event()
        self.fail = False

    def put_object(self, *args: Any, **kwargs: Any) -> Any:
        assert self.release.wait(30), "the test never released the write"
        if self.fail:
            raise ConnectionRefusedError("the store is down")
        return self._client.put_object(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_sealing_does_not_hold_up_the_loop_and_a_failed_seal_is_reported_later_and_retried(parts: Parts) -> None:
    camera = f"c{uuid.uuid4().hex[:8]}"
    held = HeldClient(parts.client)
    builder = SegmentBuilder(held, parts.bucket, parts.index, 60, 8 << 20, clock=parts.clock)  # type: ignore[arg-type]
    parts.builders.append(builder)
    packed = frames(camera, 3)
    index_unsealed(parts.index, packed)
    builder.add(packed)
    parts.clock.now += 60
    held.fail = True
    assert builder.seal_due() == 0  # returns while the write waits
    assert builder.low_water() == {P0: 0}  # what is being written is not committed past
    builder.add(packed)  # delivered again meanwhile (a rewind): not packed a second time
    held.release.set()
    with pytest.raises(TransientError):
        builder.settle()
    assert builder.low_water() == {P0: 0} and object_names(parts.client, parts.bucket, camera) == []
    held.fail = False
    builder.seal_due()  # open again, and still due
    assert builder.settle() == 1 and builder.low_water() == {}
    assert len(object_names(parts.client, parts.bucket, camera)) == 1
    assert {row.segment_key for row in all_rows(parts.index, camera)} == set(object_names(parts.client, parts.bucket,
                                                                                            camera))


def test_a_redelivered_frame_already_sealed_is_not_packed_again(parts: Parts) -> None:
    camera = f"c{uuid.uuid4().hex[:8]}"
    packed = frames(camera, 4)
    index_unsealed(parts.index, packed)
    builder = parts.builder()
    builder.add(packed)
    builder.seal_all()
    builder.add(packed)  # the same frames again, as after a crash before the commit
    assert builder.low_water() == {} and builder.seal_all() == 0
    assert len(object_names(parts.client, parts.bucket, camera)) == 1


# -- offsets ----------------------------------------------------------------------------------

@dataclass
class HoldingHandler:
    """Finishes batches at once but holds their frames 'in open segments' until `sealed`."""

    consumer: FakeConsumer
    held: list[int] = field(default_factory=list)
    seal_at_poll: int = 5
    commits_while_held: list[dict[int, int]] = field(default_factory=list)

    def start(self, messages: Sequence[Message[KafkaPayload]]) -> "HoldingHandler":
        self.held.extend(message.offset for message in messages)
        return self

    def finish(self) -> None:
        pass

    def abandon(self) -> None:
        pass

    def maintain(self) -> None:
        if self.consumer.polls >= self.seal_at_poll:
            self.held.clear()
        elif self.held:
            self.commits_while_held.extend(event[1] for event in self.consumer.events if event[0] == "commit")

    def drain(self) -> None:
        self.held.clear()

    def low_water(self) -> dict[Partition, int]:
        return {P0: min(self.held)} if self.held else {}

    def revoked(self, partitions: set[Partition]) -> None:
        pass


def test_offsets_are_committed_only_once_the_frames_are_sealed() -> None:
    stop = threading.Event()
    tp = TopicPartition(FRAMES, 0)
    consumer = FakeConsumer({tp: [b"a", b"b", b"c", b"d"]}, stop, lambda c: c.committed.get(tp) == 4)
    handler = HoldingHandler(consumer)
    loop = ConsumerLoop(consumer, FRAMES, handler, 2, max_backoff=8, clock=consumer.clock)  # type: ignore[arg-type]
    loop.run(stop)
    assert all(offsets.get(0, 0) == 0 for offsets in handler.commits_while_held)  # nothing past the held frames
    assert consumer.committed[tp] == 4  # committed while idle, once sealed
    assert consumer.polls >= handler.seal_at_poll


# -- orphans ----------------------------------------------------------------------------------

def test_the_sweep_removes_segments_begun_but_never_sealed(parts: Parts) -> None:
    camera = f"c{uuid.uuid4().hex[:8]}"
    orphan = segment_key(camera, now_us())
    parts.index.begin_segment(Segment(orphan, camera, 1, 2, 3, 4, False, now_us() - 3_600_000_000))
    parts.client.put_object(parts.bucket, orphan, io.BytesIO(b"x" * 10), 10)  # then SIGKILL
    kept = frames(camera, 2)
    index_unsealed(parts.index, kept)
    builder = parts.builder()
    builder.add(kept)
    builder.seal_all()
    sealed = object_names(parts.client, parts.bucket, camera)
    assert len(sealed) == 2

    def delete(keys: Sequence[str]) -> None:
        assert not remove_objects(parts.client, parts.bucket, keys)

    assert StaleSegmentSweeper(parts.index, delete).sweep(threading.Event()) == 1
    assert object_names(parts.client, parts.bucket, camera) == [name for name in sealed if name != orphan]
    assert [s.segment_key for s in parts.index.camera_segments(camera)] == [n for n in sealed if n != orphan]
    assert len(all_rows(parts.index, camera)) == 2


# -- deleting single frames -----------------------------------------------------------------

def test_deleting_frames_rewrites_their_segment_without_them(parts: Parts) -> None:
    camera = f"c{uuid.uuid4().hex[:8]}"
    packed = frames(camera, 6)
    index_unsealed(parts.index, packed)
    builder = parts.builder()
    builder.add(packed)
    builder.seal_all()
    [old] = object_names(parts.client, parts.bucket, camera)
    doomed = [row for row in all_rows(parts.index, camera) if row.frame_id in {packed[1].frame_id, packed[4].frame_id}]

    assert FrameRemover(parts.index, parts.client, parts.bucket).remove(doomed) == 2

    [new] = object_names(parts.client, parts.bucket, camera)
    assert new != old
    rows = all_rows(parts.index, camera)
    kept = [f for i, f in enumerate(packed) if i not in (1, 4)]
    assert [row.frame_id for row in rows] == [f.frame_id for f in kept] and {row.segment_key for row in rows} == {new}
    reader = parts.reader()
    assert [(reader.original(row), reader.thumbnail(row)) for row in rows] == [(f.jpeg, f.thumbnail) for f in kept]
    assert [s.segment_key for s in parts.index.camera_segments(camera)] == [new]
    assert parts.index.totals(camera)[0] == 4


def test_the_sweep_removes_sealed_segments_left_without_frames(parts: Parts) -> None:
    camera = f"c{uuid.uuid4().hex[:8]}"
    left = segment_key(camera, now_us())
    parts.index.begin_segment(Segment(left, camera, 1, 2, 3, 4, False, now_us() - 3_600_000_000))
    parts.client.put_object(parts.bucket, left, io.BytesIO(b"x"), 1)
    parts.index.seal(left, 0, [])  # e.g. a rewrite cut short after its frames moved on

    def delete(keys: Sequence[str]) -> None:
        assert not remove_objects(parts.client, parts.bucket, keys)

    assert StaleSegmentSweeper(parts.index, delete).sweep(threading.Event()) == 1
    assert object_names(parts.client, parts.bucket, camera) == [] and parts.index.camera_segments(camera) == []


# -- start-up check ---------------------------------------------------------------------------

def test_the_worker_refuses_a_frames_topic_that_forgets_too_soon(kafka_bootstrap: str, unique_name: str) -> None:
    assert check_frames_retention(kafka_bootstrap, 60) >= required_retention_ms(60)  # the session's topic: 7 days
    with pytest.raises(RetentionTooShort):
        check_frames_retention(kafka_bootstrap, 86_400 * 365)


# -- the worker in segments mode --------------------------------------------------------------

def group_offsets(bootstrap: str, group: str) -> dict[int, int]:
    """The group's committed offsets in `sensr.frames`, by partition."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {tp.partition: meta.offset for tp, meta in admin.list_group_offsets(group)[group].items()
                if tp.topic == FRAMES}
    finally:
        admin.close()


SEGMENT_ENV = {"SENSR_CATALOG_SEGMENTS": "true", "SENSR_SEGMENT_MAX_AGE_S": "3"}


def test_the_worker_lists_frames_at_once_serves_them_from_kafka_then_from_one_segment(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker],
        tmp_path: Path) -> None:
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    events = frames_for(camera, 20)
    workers(dict(env, **{**SEGMENT_ENV, "SENSR_SEGMENT_MAX_AGE_S": "30"}))
    produce(kafka_bootstrap, events)
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    client = s3_client(env)
    reader = FrameReader(client, env["SENSR_S3_BUCKET"], KafkaFrames(kafka_bootstrap, 2))
    try:
        wait_for("frames indexed", lambda: index.totals(camera)[0] == len(events), timeout=60)
        rows = all_rows(index, camera)
        assert all(row.segment_key is None and row.kafka_offset is not None for row in rows)
        by_id = {event.frame_id: event.jpeg for event in events}
        assert all(reader.original(row) == by_id[row.frame_id] for row in rows)
        assert all(reader.thumbnail(row)[:2] == b"\xff\xd8" for row in rows)
        assert object_names(client, env["SENSR_S3_BUCKET"], camera) == []
        committed = group_offsets(kafka_bootstrap, env["SENSR_CATALOG_GROUP_ID"])
        assert all(committed.get(row.kafka_partition, 0) <= row.kafka_offset for row in rows)  # type: ignore[operator]
    finally:
        index.close()
        reader.close()


def test_the_worker_seals_by_age_and_commits_then(env: dict[str, str], kafka_bootstrap: str, unique_name: str,
                                                  workers: Callable[..., Worker]) -> None:
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    events = frames_for(camera, 20)
    worker = workers(dict(env, **SEGMENT_ENV))
    produce(kafka_bootstrap, events)
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    client = s3_client(env)
    reader = FrameReader(client, env["SENSR_S3_BUCKET"])
    try:
        wait_for("segment sealed", lambda: all(row.segment_key for row in all_rows(index, camera))
                 and len(all_rows(index, camera)) == len(events), timeout=60)
        names = object_names(client, env["SENSR_S3_BUCKET"], camera)
        assert 1 <= len(names) <= 2 and all(name.endswith(".seg") for name in names)
        by_id = {event.frame_id: event.jpeg for event in events}
        assert all(reader.original(row) == by_id[row.frame_id] for row in all_rows(index, camera))
        rows = all_rows(index, camera)
        wait_for("committed past the sealed frames", lambda: all(
            group_offsets(kafka_bootstrap, env["SENSR_CATALOG_GROUP_ID"]).get(row.kafka_partition, 0)  # type: ignore[arg-type]
            > row.kafka_offset for row in rows), timeout=30)
    finally:
        index.close()
    assert worker.terminate() == 0


def test_with_the_store_down_frames_are_still_listed_and_sealed_once_it_is_back(
        private_store_env: dict[str, str], private_seaweed: Any, kafka_bootstrap: str, unique_name: str,
        workers: Callable[..., Worker]) -> None:
    env, camera = private_store_env, unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    worker = workers(dict(env, **SEGMENT_ENV))
    early, late = frames_for(camera, 5), frames_for(camera, 10, start_seed=10)
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    reader = FrameReader(s3_client(env), env["SENSR_S3_BUCKET"], KafkaFrames(kafka_bootstrap, 2))
    try:
        produce(kafka_bootstrap, early)
        wait_for("early frames sealed", lambda: len(all_rows(index, camera)) == 5
                 and all(row.segment_key for row in all_rows(index, camera)), timeout=60)
        private_seaweed.stop()
        produce(kafka_bootstrap, late)
        wait_for("late frames listed while the store is down", lambda: index.totals(camera)[0] == 15, timeout=60)
        by_id = {event.frame_id: event.jpeg for event in early + late}
        unsealed = [row for row in all_rows(index, camera) if row.segment_key is None]
        assert len(unsealed) == 10 and all(reader.original(row) == by_id[row.frame_id] for row in unsealed)
        wait_for("seals failing", lambda: worker.metric("sensr_catalog_segment_seal_failures_total") >= 1, timeout=60)
        private_seaweed.start()
        wait_for("sealed once the store is back", lambda: all(row.segment_key for row in all_rows(index, camera)),
                 timeout=90)
        rows = all_rows(index, camera)
        assert sorted(row.frame_id for row in rows) == sorted(by_id)
        assert all(reader.original(row) == by_id[row.frame_id] for row in rows)
    finally:
        index.close()
        reader.close()
