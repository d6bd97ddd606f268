"""The catalog worker's steps, each alone, without Kafka, S3 or a database.

- `ConsumerLoop` against `tests.support.fake_consumer.FakeConsumer`, which implements the few kafka-python calls the
  loop makes (subscribe with a rebalance listener, poll, commit, seek, pause/resume,
  assignment, position, highwater) over in-memory partitions, and a clock that advances
  only while the loop polls an idle consumer: the back-off after a failure takes no real
  time.
- `BatchProcessor` with the real announcer over fakes of the camera table, the object
  store, the index and the producer (its logic is pure: which record goes where).
- `Announcer` against a fake producer, and the exception mapping of `errors`.

The same behaviour through real Kafka, S3 and PostgreSQL is in test_catalog_worker.py,
test_catalog_hardening.py and test_catalog_dedup.py.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaTimeoutError
from kafka.structs import OffsetAndMetadata
from minio.error import ServerError
from prometheus_client import REGISTRY
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

import catalog_worker
from catalog_worker import dlq
from catalog_worker.announce import Announcer
from catalog_worker.consumer import ConsumerLoop
from catalog_worker.dedup import DuplicateFilter
from catalog_worker.errors import (
    RecordRefused,
    TransientError,
    broker_errors,
    index_errors,
    index_unavailable,
    storage_errors,
)
from catalog_worker.known_cameras import KnownCameras
from catalog_worker.message import KafkaPayload, Message, Partition
from catalog_worker.pipeline import BatchProcessor
from catalog_worker.decode_budget import DecodeBudget
from catalog_worker.store import ObjectWriter, PendingWrites, Written
from sensr.broker import CATALOG, FRAMES, FRAMES_DLQ
from sensr.frame_check import FrameShape, check_frame
from sensr.frames import FrameEvent
from sensr.index import FrameRecord
from sensr.storage import object_keys
from tests.support.fake_consumer import FakeConsumer, fully_committed, record
from tests.support.jpegs import make_jpeg

P0, P1 = TopicPartition(FRAMES, 0), TopicPartition(FRAMES, 1)
# -- a handler that records what it is given ----------------------------------------------

@dataclass
class RecordingHandler:
    """Batches are (partition, offset) lists. `fail_finish` counts the finishes that raise
    TransientError first; `consumer` sees each event in its event list."""

    consumer: FakeConsumer
    fail_finish: int = 0
    fail_start: int = 0
    started: list[list[tuple[int, int]]] = field(default_factory=list)

    def start(self, messages: Sequence[Message[KafkaPayload]]) -> RecordedWork:
        assert all(isinstance(message.payload, KafkaPayload) for message in messages)  # not kafka-python's record
        batch = [(message.partition.index, message.offset) for message in messages]
        self.started.append(batch)
        if self.fail_start:
            self.fail_start -= 1
            self.consumer.events.append(("refused", batch))
            raise TransientError("cameras", "camera table did not catch up")
        return RecordedWork(self, batch)

    def maintain(self) -> None:
        pass  # no segments: everything finished is durable

    def drain(self) -> None:
        pass

    def low_water(self) -> dict[Partition, int]:
        return {}

    def revoked(self, partitions: set[Partition]) -> None:
        pass


@dataclass
class RecordedWork:
    handler: RecordingHandler
    batch: list[tuple[int, int]]

    def finish(self) -> None:
        if self.handler.fail_finish:
            self.handler.fail_finish -= 1
            self.handler.consumer.events.append(("failed", self.batch))
            raise TransientError("storage", "connection refused")
        self.handler.consumer.events.append(("finished", self.batch))

    def abandon(self) -> None:
        self.handler.consumer.events.append(("abandoned", self.batch))


def run_loop(consumer: FakeConsumer, handler: Any, batch_size: int, stop: threading.Event) -> ConsumerLoop:
    loop = ConsumerLoop(consumer, FRAMES, handler, batch_size, max_backoff=8, clock=consumer.clock)  # type: ignore[arg-type]
    loop.run(stop)
    return loop


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- the loop ------------------------------------------------------------------------------

def test_batches_are_committed_in_poll_order_after_they_finish() -> None:
    stop = threading.Event()
    consumer = FakeConsumer({P0: [b"a", b"b", b"c"], P1: [b"d"]}, stop, fully_committed)
    handler = RecordingHandler(consumer)
    run_loop(consumer, handler, batch_size=2, stop=stop)
    assert handler.started == [[(0, 0), (0, 1)], [(0, 2), (1, 0)]]
    assert consumer.events == [("finished", [(0, 0), (0, 1)]), ("commit", {0: 2}),
                               ("finished", [(0, 2), (1, 0)]), ("commit", {0: 3, 1: 1})]


def test_transient_error_rewinds_waits_paused_and_redoes_without_committing_before() -> None:
    stop = threading.Event()
    consumer = FakeConsumer({P0: [b"a", b"b", b"c", b"d", b"e"]}, stop, fully_committed)
    handler = RecordingHandler(consumer, fail_finish=1)
    paused_while_waiting: list[tuple[set[TopicPartition], str | None]] = []
    loop: ConsumerLoop | None = None
    poll = consumer.poll

    def watching_poll(timeout_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        if consumer.paused and loop is not None:
            paused_while_waiting.append((set(consumer.paused), loop.failing))
        return poll(timeout_ms, max_records)

    consumer.poll = watching_poll  # type: ignore[method-assign]
    retries = counter("sensr_catalog_retries_total", dependency="storage")
    loop = ConsumerLoop(consumer, FRAMES, handler, 2, max_backoff=8, clock=consumer.clock)  # type: ignore[arg-type]
    loop.run(stop)

    # Two batches in flight when the first fails: both abandoned, the partition rewound to
    # the first uncommitted offset, nothing committed until the redone batch finishes.
    first_commit = next(i for i, event in enumerate(consumer.events) if event[0] == "commit")
    assert consumer.events[:first_commit + 1] == [
        ("failed", [(0, 0), (0, 1)]), ("abandoned", [(0, 0), (0, 1)]), ("abandoned", [(0, 2), (0, 3)]),
        ("seek", 0, 0), ("finished", [(0, 0), (0, 1)]), ("commit", {0: 2})]
    assert handler.started[:3] == [[(0, 0), (0, 1)], [(0, 2), (0, 3)], [(0, 0), (0, 1)]]
    assert consumer.committed == {P0: 5}
    assert counter("sensr_catalog_retries_total", dependency="storage") == retries + 1
    # It waited out the back-off (0.5 s ± 20 %) with the partition paused, still polling,
    # and said which dependency it waits for; then it went on as healthy.
    assert paused_while_waiting and all(paused == {P0} and failing == "storage"
                                        for paused, failing in paused_while_waiting)
    assert consumer.now >= 0.4
    assert loop.failing is None and not consumer.paused


def test_a_batch_that_cannot_start_is_polled_again_after_the_wait() -> None:
    stop = threading.Event()
    consumer = FakeConsumer({P0: [b"a", b"b", b"c"]}, stop, fully_committed)
    handler = RecordingHandler(consumer, fail_start=1)
    loop = run_loop(consumer, handler, batch_size=2, stop=stop)
    assert consumer.events[:4] == [("refused", [(0, 0), (0, 1)]), ("seek", 0, 0),
                                   ("finished", [(0, 0), (0, 1)]), ("commit", {0: 2})]
    assert consumer.committed == {P0: 3} and loop.failing is None


def test_stopping_finishes_the_batch_in_hand_or_leaves_it_uncommitted() -> None:
    stop = threading.Event()
    finishing = FakeConsumer({P0: [b"a"]}, stop, lambda consumer: consumer.polls >= 1)  # stop during the 1st poll
    run_loop(finishing, RecordingHandler(finishing), batch_size=1, stop=stop)
    assert finishing.events == [("finished", [(0, 0)]), ("commit", {0: 1})]

    stop = threading.Event()
    failing = FakeConsumer({P0: [b"a"]}, stop, lambda consumer: consumer.polls >= 1)
    run_loop(failing, RecordingHandler(failing, fail_finish=1), batch_size=1, stop=stop)
    assert failing.events == [("failed", [(0, 0)]), ("abandoned", [(0, 0)])]
    assert failing.committed == {}


def test_a_batch_from_before_a_rebalance_commits_nothing_of_lost_partitions_and_their_next_owner_redoes_them() -> None:
    stop = threading.Event()
    consumer = FakeConsumer({P0: [b"a", b"b"], P1: [b"c", b"d"]}, stop, fully_committed)
    # Poll 1 joins with both partitions and starts a batch of all four records; during
    # poll 2, with that batch in flight, partition 1 goes to another member (partition 0
    # is given straight back); at poll 6 partition 1 comes back (never committed).
    consumer.rebalances.update({2: {P0}, 6: {P0, P1}})
    handler = RecordingHandler(consumer)
    stale = counter("sensr_catalog_stale_batches_total")
    run_loop(consumer, handler, batch_size=4, stop=stop)

    assert consumer.events[0] == ("finished", [(0, 0), (0, 1), (1, 0), (1, 1)])
    assert not any(event[0] == "commit_refused" for event in consumer.events)
    commits = [event[1] for event in consumer.events if event[0] == "commit"]
    assert commits[0] == {0: 2}  # the partition kept, from the batch polled before
    assert all(1 not in offsets for offsets in commits[:-1]) and commits[-1] == {1: 2}
    assert handler.started[1:] == [[(1, 0), (1, 1)]]  # only partition 1 redone, once it came back
    assert consumer.committed == {P0: 2, P1: 2}
    assert counter("sensr_catalog_stale_batches_total") == stale + 1


@dataclass
class HoldingHandler(RecordingHandler):
    """Holds finished records (as open segments do) until a `maintain` from poll
    `seal_from` on seals them; forgets those of revoked partitions."""

    seal_from: int = 0
    held: set[tuple[int, int]] = field(default_factory=set)
    sealed: set[tuple[int, int]] = field(default_factory=set)

    def start(self, messages: Sequence[Message[KafkaPayload]]) -> RecordedWork:
        work = super().start(messages)
        return HeldWork(self, work.batch)

    def maintain(self) -> None:
        if self.consumer.polls >= self.seal_from:
            self.sealed |= self.held
            self.held.clear()

    def low_water(self) -> dict[Partition, int]:
        water: dict[Partition, int] = {}
        for index, offset in self.held:
            partition = Partition(FRAMES, index)
            water[partition] = min(offset, water.get(partition, offset))
        return water

    def revoked(self, partitions: set[Partition]) -> None:
        self.held = {(index, offset) for index, offset in self.held if Partition(FRAMES, index) not in partitions}


@dataclass
class HeldWork(RecordedWork):
    def finish(self) -> None:
        super().finish()
        assert isinstance(self.handler, HoldingHandler)
        self.handler.held |= set(self.batch)


def test_what_is_held_of_a_partition_is_kept_when_it_is_given_back_and_dropped_when_lost() -> None:
    """Records finished but not sealed yet (held, as in open segments) stay held through a
    rebalance that gives their partition straight back (kafka-python keeps its position:
    they are not fetched again); when the partition is lost they are dropped, and no
    commit ever passes a record that is not sealed."""
    stop = threading.Event()
    consumer = FakeConsumer({P0: [b"a", b"b", b"c"], P1: [b"d", b"e"]}, stop, fully_committed)
    consumer.rebalances.update({3: {P0, P1}, 7: {P0}, 9: {P0, P1}})
    commits_seen: list[tuple[dict[int, int], set[tuple[int, int]]]] = []
    handler = HoldingHandler(consumer, seal_from=6)
    commit = consumer.commit

    def checking_commit(offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        commits_seen.append(({p.partition: meta.offset for p, meta in offsets.items()}, set(handler.sealed)))
        commit(offsets)

    consumer.commit = checking_commit  # type: ignore[method-assign]
    run_loop(consumer, handler, batch_size=1, stop=stop)
    assert consumer.committed == {P0: 3, P1: 2}
    for offsets, sealed in commits_seen:
        for index, offset in offsets.items():
            assert {(index, n) for n in range(offset)} <= sealed, (offsets, sealed)
    assert handler.started.count([(0, 0)]) == 1  # partition 0 was always given back: nothing fetched twice


def test_partitions_assigned_while_waiting_stay_paused_until_the_wait_ends() -> None:
    stop = threading.Event()
    consumer = FakeConsumer({P0: [b"a"], P1: [b"b"]}, stop, fully_committed)
    consumer.rebalances = {1: {P0}, 3: {P0, P1}}  # P1 arrives during the back-off
    handler = RecordingHandler(consumer, fail_finish=1)
    assigned_paused: list[bool] = []
    poll = consumer.poll

    def watching_poll(timeout_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        polled = poll(timeout_ms, max_records)
        if consumer.polls == 3:
            assigned_paused.append(consumer.paused == {P0, P1})
        return polled

    consumer.poll = watching_poll  # type: ignore[method-assign]
    run_loop(consumer, handler, batch_size=1, stop=stop)
    assert assigned_paused == [True]
    assert consumer.committed == {P0: 1, P1: 1}


# -- the batch's steps, over fakes ---------------------------------------------------------

@dataclass
class FakeTable:
    cameras: set[str]

    def get(self, camera: str) -> object | None:
        return object() if camera in self.cameras else None

    def sync(self, timeout: float) -> bool:
        return True


@dataclass
class FakeStore:
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def submit(self, frames: Sequence[tuple[FrameEvent, FrameShape]]) -> PendingWrites:
        futures: list[Future[Written]] = []
        for frame, shape in frames:
            original, thumbnail = object_keys(frame.camera, frame.timestamp_us, frame.frame_id)
            future: Future[Written] = Future()
            future.set_result(Written(FrameRecord(frame.frame_id, frame.camera, frame.timestamp_us, len(frame.jpeg),
                                                  shape.width, shape.height, frame.source, original, thumbnail),
                                      b"thumbnail"))
            self.written.append(frame.frame_id)
            futures.append(future)
        return PendingWrites(futures)

    def delete(self, records: Sequence[FrameRecord]) -> None:
        self.deleted.extend(record.frame_id for record in records)


@dataclass
class FakeIndex:
    """Refuses (as PostgreSQL refuses a NUL in text) the rows of frames in `refuse`."""

    refuse: set[str] = field(default_factory=set)
    rows: dict[str, FrameRecord] = field(default_factory=dict)

    def add(self, records: Sequence[FrameRecord]) -> int:
        if any(record.frame_id in self.refuse for record in records):
            raise DataError("INSERT INTO frames ...", {}, Exception("invalid byte sequence"))
        new = [record for record in records if record.frame_id not in self.rows]
        self.rows.update((record.frame_id, record) for record in records)
        return len(new)


class FakeFuture:
    def __init__(self, error: Exception | None) -> None:
        self._error = error

    def get(self, timeout: float) -> None:
        if self._error is not None:
            raise self._error


@dataclass
class FakeProducer:
    fail_with: Exception | None = None
    sent: list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]] = field(default_factory=list)
    flushed: int = 0

    def send(self, topic: str, key: bytes | None, value: bytes,
             headers: list[tuple[str, bytes]] | None = None) -> FakeFuture:
        self.sent.append((topic, key, value, headers or []))
        return FakeFuture(self.fail_with)

    def flush(self, timeout: float) -> None:
        self.flushed += 1

    def topics(self) -> list[str]:
        return [topic for topic, *_ in self.sent]

    def dead_letters(self) -> dict[str, dict[str, str]]:
        """By origin, the dead letters' headers."""
        letters = [{name: raw.decode(errors="replace") for name, raw in headers}
                   for topic, _, _, headers in self.sent if topic == FRAMES_DLQ]
        return {letter[dlq.H_ORIGIN]: letter for letter in letters}


@dataclass
class Steps:
    processor: BatchProcessor
    store: FakeStore
    index: FakeIndex
    producer: FakeProducer


def steps(cameras: set[str], refuse: frozenset[str] = frozenset()) -> Steps:
    store, index, producer = FakeStore(), FakeIndex(set(refuse)), FakeProducer()
    processor = BatchProcessor(KnownCameras(FakeTable(cameras), 1, 30), store, index,  # type: ignore[arg-type]
                               Announcer(producer, 5), 1_000_000, 64_000_000,  # type: ignore[arg-type]
                               DuplicateFilter(index, 0))  # type: ignore[arg-type]
    return Steps(processor, store, index, producer)


def frame_record(partition: TopicPartition, offset: int, frame: FrameEvent) -> ConsumerRecord:
    return record(partition, offset, frame.jpeg, key=frame.key(), headers=frame.headers())


def test_a_poison_record_is_dead_lettered_and_the_rest_of_its_batch_committed() -> None:
    good = [FrameEvent.new("cam1", make_jpeg(seed=seed), "ftp") for seed in range(3)]
    poison = FrameEvent.new("cam1", b"not a jpeg", "ftp")
    stop = threading.Event()
    consumer = FakeConsumer({P0: []}, stop, fully_committed)
    consumer.logs[P0] = [frame_record(P0, offset, frame) for offset, frame in enumerate([good[0], poison, *good[1:]])]
    parts = steps({"cam1"})
    dead = counter("sensr_catalog_dead_letters_total", kind="bad_jpeg")
    run_loop(consumer, parts.processor, batch_size=10, stop=stop)

    assert consumer.committed == {P0: 4}
    letters = parts.producer.dead_letters()
    assert list(letters) == [f"{FRAMES}/0/1"]
    assert letters[f"{FRAMES}/0/1"][dlq.H_KIND] == "bad_jpeg"
    poison_letter = next(sent for sent in parts.producer.sent if sent[0] == FRAMES_DLQ)
    assert poison_letter[1:3] == (poison.key(), poison.jpeg)  # the original record, unchanged
    assert set(parts.index.rows) == set(parts.store.written) == {frame.frame_id for frame in good}
    assert parts.producer.topics() == [FRAMES_DLQ, CATALOG, CATALOG, CATALOG]
    assert counter("sensr_catalog_dead_letters_total", kind="bad_jpeg") == dead + 1


def test_each_step_dead_letters_what_it_refuses_from_the_original_record() -> None:
    kept = FrameEvent.new("cam1", make_jpeg(seed=1), "http")
    unknown = FrameEvent.new("ghost", make_jpeg(seed=2), "http")
    refused = FrameEvent.new("cam1", make_jpeg(seed=3), "http")
    records = [frame_record(P1, 7, kept), record(P1, 8, b"no headers"), frame_record(P1, 9, unknown),
               frame_record(P1, 10, refused)]
    parts = steps({"cam1"}, refuse={refused.frame_id})
    messages = [Message(Partition(FRAMES, 1), r.offset, KafkaPayload(r.key, r.value, r.headers)) for r in records]
    parts.processor.start(messages).finish()

    kinds = {origin: letter[dlq.H_KIND] for origin, letter in parts.producer.dead_letters().items()}
    assert kinds == {f"{FRAMES}/1/8": "bad_event", f"{FRAMES}/1/9": "unknown_camera",
                     f"{FRAMES}/1/10": "index_refused"}
    refused_letter = parts.producer.dead_letters()[f"{FRAMES}/1/10"]
    assert {name: value for name, value in refused_letter.items() if not name.startswith("dlq-")} == \
        {name: raw.decode() for name, raw in refused.headers()}
    assert parts.store.deleted == [refused.frame_id]  # its objects go with its row
    assert list(parts.index.rows) == [kept.frame_id]
    assert parts.producer.topics().count(CATALOG) == 1


def test_message_replace_keeps_the_place_in_the_log() -> None:
    consumed = Message(Partition(FRAMES, 2), 41, KafkaPayload(b"cam", b"jpeg", []))
    decoded = consumed.replace("a frame")
    assert (decoded.partition, decoded.offset, decoded.payload) == (Partition(FRAMES, 2), 41, "a frame")
    assert decoded.origin == consumed.origin == f"{FRAMES}/2/41"


@dataclass
class FakeMinio:
    """The one call of the minio client the store's writes make; `fail` refuses each."""

    fail: Exception | None = None
    objects: dict[str, bytes] = field(default_factory=dict)

    def put_object(self, bucket: str, key: str, data: Any, length: int, content_type: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.objects[key] = data.read()


def test_store_writes_original_and_thumbnail_under_the_frame_ids_keys() -> None:
    client = FakeMinio()
    store = ObjectWriter(client, "frames", 2, 32, DecodeBudget(1 << 30))  # type: ignore[arg-type]
    frame = FrameEvent.new("cam1", make_jpeg(96, 64), "ftp")
    try:
        [written] = store.submit([(frame, check_frame(frame.jpeg, 64_000_000))]).result()
    finally:
        store.close()
    stored = written.record
    assert client.objects[stored.thumbnail_key] == written.thumbnail
    assert (stored.frame_id, stored.width, stored.height, stored.size) == (frame.frame_id, 96, 64, len(frame.jpeg))
    assert (stored.object_key, stored.thumbnail_key) == object_keys("cam1", frame.timestamp_us, frame.frame_id)
    assert client.objects[stored.object_key] == frame.jpeg
    assert client.objects[stored.thumbnail_key].startswith(b"\xff\xd8")


def test_a_write_the_store_refuses_makes_the_batch_wait_for_storage() -> None:
    store = ObjectWriter(FakeMinio(fail=ServerError("503 Slow Down", 503)), "frames", 2, 32,  # type: ignore[arg-type]
                        DecodeBudget(1 << 30))
    frames = [FrameEvent.new("cam1", make_jpeg(seed=seed), "ftp") for seed in range(3)]
    try:
        with pytest.raises(TransientError) as raised:
            store.submit([(frame, check_frame(frame.jpeg, 64_000_000)) for frame in frames]).result()
    finally:
        store.close()
    assert raised.value.dependency == "storage"


# -- the announcer and the error mapping ---------------------------------------------------

def test_announcer_sends_dead_letters_and_events_and_waits_for_every_ack() -> None:
    producer = FakeProducer()
    frame = FrameEvent.new("cam1", b"\xff\xd8", "ftp")
    stored = FrameRecord(frame.frame_id, "cam1", frame.timestamp_us, 2, 1, 1, "ftp", "k", "t")
    letter = dlq.DeadLetter(Message(Partition(FRAMES, 0), 3, KafkaPayload(b"cam1", b"x", frame.headers())),
                            "bad_jpeg", "no SOI")
    Announcer(producer, 5).publish([stored], [letter])  # type: ignore[arg-type]
    assert producer.topics() == [FRAMES_DLQ, CATALOG] and producer.flushed == 1
    assert producer.sent[1][1] == b"cam1"


def test_announcer_reports_an_unacknowledged_message_as_kafka_unavailable() -> None:
    producer = FakeProducer(fail_with=KafkaTimeoutError("batch expired"))
    stored = FrameRecord("01J0000000000000000000000A", "cam1", 1, 2, 1, 1, "ftp", "k", "t")
    with pytest.raises(TransientError) as raised:
        Announcer(producer, 5).publish([stored], [])  # type: ignore[arg-type]
    assert raised.value.dependency == "kafka"


@pytest.mark.parametrize("error, mapped, dependency", [
    (DataError("INSERT", {}, Exception("NUL")), RecordRefused, None),
    (OperationalError("INSERT", {}, Exception("connection refused")), TransientError, "index"),
    (PoolTimeout("QueuePool limit reached"), TransientError, "index"),
])
def test_index_errors_map_refusals_and_outages(error: Exception, mapped: type[Exception], dependency: str | None) -> None:
    with pytest.raises(mapped) as raised, index_errors():
        raise error
    assert getattr(raised.value, "dependency", None) == dependency


def test_index_unavailable_makes_every_database_error_transient() -> None:
    for error in (DataError("INSERT", {}, Exception("NUL")), PoolTimeout("QueuePool limit reached")):
        with pytest.raises(TransientError), index_unavailable():
            raise error


def test_storage_and_broker_errors_are_transient() -> None:
    with pytest.raises(TransientError) as storage, storage_errors():
        raise ServerError("503 Slow Down", 503)
    with pytest.raises(TransientError) as broker, broker_errors("publishing"):
        raise KafkaTimeoutError("no ack")
    assert (storage.value.dependency, broker.value.dependency) == ("storage", "kafka")


def test_only_the_consumer_loop_sees_kafka_records() -> None:
    package = Path(catalog_worker.__file__).parent
    importers = sorted(path.name for path in package.glob("*.py")
                       for node in ast.walk(ast.parse(path.read_text()))
                       if isinstance(node, ast.ImportFrom) and node.module == "kafka.consumer.fetcher")
    assert importers == ["consumer.py"]
