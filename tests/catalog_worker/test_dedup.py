"""The duplicate rule (`catalog_worker.dedup`): identical bytes from one camera within the
re-upload window are stored once. First the rule against the real index, on SQLite and on
PostgreSQL; then through a real catalog_worker process, Kafka and S3, across a restart.

PostgreSQL tests share one database: each test works on cameras of its own name."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from catalog_worker.dedup import DuplicateFilter
from catalog_worker.dlq import DeadLetter
from catalog_worker.errors import TransientError
from catalog_worker.message import KafkaPayload, Message, Partition
from infra.seaweedfs import SeaweedS3
from sensr.broker import FRAMES
from sensr.database import make_engine, writer
from sensr.frames import FrameEvent, new_frame_id
from sensr import index as index_module
from sensr.index import VERSION_TABLE, FrameIndex, FrameRecord
from tests.support.kafka_tap import register_camera
from tests.support.jpegs import make_jpeg
from tests.support.catalog_worker import Worker, assert_exactly_once, frames_for, produce, s3_client, wait_for

T0 = 1_790_000_000_000_000  # an instant in 2026, in µs
SECOND_US = 1_000_000
WINDOW = 600.0  # seconds, the default


def copy(camera: str, jpeg: bytes, timestamp_us: int, source: str = "http") -> FrameEvent:
    """A frame as an edge publishes it: its own id and Sensr timestamp."""
    return FrameEvent(camera, jpeg, new_frame_id(timestamp_us), timestamp_us, source)


def indexed(index: FrameIndex, frames: list[FrameEvent]) -> None:
    """Index the frames a batch kept (the worker indexes them after writing their objects)."""
    index.add([FrameRecord(f.frame_id, f.camera, f.timestamp_us, len(f.jpeg), 64, 48, f.source,
                           f"{f.frame_id}.jpg", f"{f.frame_id}.thumb.jpg") for f in frames])


def kept(rule: DuplicateFilter, index: FrameIndex, frames: list[FrameEvent]) -> list[FrameEvent]:
    """One batch: the frames the rule keeps (they are then indexed), in the order given."""
    dropped = rule.duplicates(frames)
    result = [frame for frame in frames if frame.frame_id not in dropped]
    indexed(index, result)
    return result


def test_a_retry_within_the_window_is_dropped_from_any_edge(index: FrameIndex, unique_name: str) -> None:
    rule = DuplicateFilter(index, WINDOW)
    jpeg = make_jpeg(64, 48, seed=1)
    first = copy(unique_name, jpeg, T0, "http")
    assert kept(rule, index, [first]) == [first]
    retries = [copy(unique_name, jpeg, T0 + 4 * SECOND_US, "http"), copy(unique_name, jpeg, T0 + 9 * SECOND_US, "ftp"),
               copy(unique_name, jpeg, T0 + 590 * SECOND_US, "mjpeg")]
    for retry in retries:
        assert kept(rule, index, [retry]) == []
    assert index.totals(unique_name)[0] == 1


def test_other_bytes_and_other_cameras_are_not_duplicates(index: FrameIndex, unique_name: str) -> None:
    rule = DuplicateFilter(index, WINDOW)
    jpeg, other = make_jpeg(64, 48, seed=1), make_jpeg(64, 48, seed=2)
    frames = [copy(unique_name, jpeg, T0), copy(unique_name, other, T0 + 1),
              copy(f"{unique_name}-b", jpeg, T0 + 2)]
    assert kept(rule, index, frames) == frames


def test_both_copies_in_one_batch_keep_the_first(index: FrameIndex, unique_name: str) -> None:
    rule = DuplicateFilter(index, WINDOW)
    jpeg = make_jpeg(64, 48, seed=3)
    first, second = copy(unique_name, jpeg, T0), copy(unique_name, jpeg, T0 + 3 * SECOND_US)
    assert kept(rule, index, [second, first]) == [first]  # log order may differ from time order


def test_a_copy_a_window_later_is_kept_and_the_window_counts_from_it(index: FrameIndex, unique_name: str) -> None:
    rule = DuplicateFilter(index, WINDOW)
    jpeg = make_jpeg(64, 48, seed=4)
    half = round(WINDOW / 2 * SECOND_US)
    copies = [copy(unique_name, jpeg, T0 + n * half) for n in range(5)]  # 0, ½, 1, 1½, 2 windows
    assert kept(rule, index, copies) == [copies[0], copies[2], copies[4]]
    assert kept(rule, index, [copy(unique_name, jpeg, T0 + 5 * half - 1)]) == []


def test_redelivery_of_a_kept_frame_is_kept_again(index: FrameIndex, unique_name: str) -> None:
    """A batch redone (retry, crash, rebalance) claims under the same ids: the frames kept
    the first time are kept again (their index rows and objects are idempotent), the
    duplicates dropped the first time are dropped again."""
    rule = DuplicateFilter(index, WINDOW)
    jpeg = make_jpeg(64, 48, seed=5)
    first, second = copy(unique_name, jpeg, T0), copy(unique_name, jpeg, T0 + SECOND_US)
    assert rule.duplicates([first, second]) == {second.frame_id}  # claimed, never indexed: the batch failed
    assert rule.duplicates([first, second]) == {second.frame_id}
    assert rule.duplicates([first, first]) == set()  # the same record twice in a batch


def test_the_window_outlives_the_worker(index_url: str, unique_name: str) -> None:
    jpeg = make_jpeg(64, 48, seed=6)
    before = FrameIndex.open(index_url)
    try:
        kept(DuplicateFilter(before, WINDOW), before, [copy(unique_name, jpeg, T0)])
    finally:
        before.close()
    after = FrameIndex.open(index_url)
    try:
        assert kept(DuplicateFilter(after, WINDOW), after, [copy(unique_name, jpeg, T0 + 60 * SECOND_US)]) == []
    finally:
        after.close()


def test_a_dead_lettered_first_copy_gives_its_claim_up(index: FrameIndex, unique_name: str) -> None:
    """The first copy's write or index row failed for good: the next copy must be stored."""
    rule = DuplicateFilter(index, WINDOW)
    jpeg = make_jpeg(64, 48, seed=7)
    first, second = copy(unique_name, jpeg, T0), copy(unique_name, jpeg, T0 + SECOND_US)
    assert rule.duplicates([first]) == set()
    rule.release([DeadLetter(consumed(first), "bad_jpeg", "its JPEG cannot be decoded")])
    assert kept(rule, index, [second]) == [second]


def test_copies_dropped_for_a_frame_dead_lettered_later_are_kept_on_the_redo(
        index: FrameIndex, unique_name: str) -> None:
    """Both copies in flight, the kept one dead-lettered after its claim: `release` asks
    for a redo, in which the dead frame claims nothing and its copy is kept."""
    rule = DuplicateFilter(index, WINDOW)
    jpeg = make_jpeg(64, 48, seed=14)
    first, second = copy(unique_name, jpeg, T0), copy(unique_name, jpeg, T0 + SECOND_US)
    assert rule.duplicates([first, second]) == {second.frame_id}
    with pytest.raises(TransientError):
        rule.release([DeadLetter(consumed(first), "bad_jpeg", "its JPEG cannot be decoded")])
    assert kept(rule, index, [first, second]) == [first, second]  # first goes on to its dead letter again
    rule.release([DeadLetter(consumed(first), "bad_jpeg", "its JPEG cannot be decoded")])  # no second redo
    assert index.get(unique_name, second.frame_id) is not None


def test_a_removed_frame_takes_its_claim_with_it(index: FrameIndex, unique_name: str) -> None:
    rule = DuplicateFilter(index, WINDOW)
    jpeg = make_jpeg(64, 48, seed=8)
    first = copy(unique_name, jpeg, T0)
    kept(rule, index, [first])
    assert index.remove(index.expired(unique_name, T0 + 1, 10)) == 1
    again = copy(unique_name, jpeg, T0 + SECOND_US)
    assert kept(rule, index, [again]) == [again]


def test_window_zero_turns_the_rule_off(index: FrameIndex, unique_name: str) -> None:
    jpeg = make_jpeg(64, 48, seed=9)
    frames = [copy(unique_name, jpeg, T0), copy(unique_name, jpeg, T0 + 1)]
    assert kept(DuplicateFilter(index, 0), index, frames) == frames


def test_concurrent_claims_of_one_content_keep_exactly_one(index_url: str, unique_name: str) -> None:
    """Two workers settling copies of the same content at once (a rebalance) agree."""
    jpeg = make_jpeg(64, 48, seed=10)
    indexes = [FrameIndex.open(index_url) for _ in range(4)]
    copies = [[copy(unique_name, jpeg, T0 + 10 * n + k) for k in range(3)] for n in range(4)]
    dropped: list[set[str]] = [set() for _ in indexes]
    start = threading.Barrier(len(indexes))

    def claim(n: int) -> None:
        start.wait()
        dropped[n] = DuplicateFilter(indexes[n], WINDOW).duplicates(copies[n])

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(indexes))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for opened in indexes:
            opened.close()
    kept_ids = {f.frame_id for batch in copies for f in batch} - set().union(*dropped)
    assert len(kept_ids) == 1


def test_an_index_of_revision_0001_is_migrated_with_its_frames(tmp_path: Path, unique_name: str) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(Path(index_module.__file__).with_name("index_migrations")))
    with writer(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == "0001"
    engine.dispose()
    index = FrameIndex.open(url)
    try:
        jpeg = make_jpeg(64, 48, seed=11)
        rule = DuplicateFilter(index, WINDOW)
        assert len(kept(rule, index, [copy(unique_name, jpeg, T0), copy(unique_name, jpeg, T0 + 1)])) == 1
    finally:
        index.close()


def consumed(frame: FrameEvent) -> Message[KafkaPayload]:
    """The record of `frame` as the worker consumes it."""
    return Message(Partition(FRAMES, 0), 0, KafkaPayload(frame.key(), frame.jpeg, frame.headers()))


# -- through a real worker ---------------------------------------------------------------

def test_worker_stores_a_retried_frame_once_across_batches_and_restarts(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str,  # noqa: F811 (fixtures)
        workers: Callable[..., Worker]) -> None:  # noqa: F811
    """Copies in one produce (one batch), after it (a later batch) and after a SIGKILL and
    restart of the worker: one stored and listed; the copies dropped cost no object."""
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    jpeg = make_jpeg(160, 120, seed=12, comment=camera.encode())
    others = frames_for(camera, 3)
    first = FrameEvent.new(camera, jpeg, "http")
    same_batch = FrameEvent.new(camera, jpeg, "ftp", filename="retry.jpg")
    worker = workers(env)
    produce(kafka_bootstrap, [first, *others, same_batch])
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("frames indexed", lambda: index.totals(camera)[0] == 4)
        later, next_one = FrameEvent.new(camera, jpeg, "mjpeg"), frames_for(camera, 1, start_seed=20)
        produce(kafka_bootstrap, [later, *next_one])
        wait_for("the next frame indexed", lambda: index.totals(camera)[0] == 5)
        wait_for("duplicates counted", lambda: worker.metric("sensr_catalog_duplicates_dropped_total") == 2)
        worker.kill()
        after_restart = FrameEvent.new(camera, jpeg, "http")
        last_one = frames_for(camera, 1, start_seed=30)
        produce(kafka_bootstrap, [after_restart, *last_one])
        restarted = workers(env)
        wait_for("the frame after the restart indexed", lambda: index.totals(camera)[0] == 6)
        wait_for("the duplicate logged", lambda: restarted.log_events("duplicate_frame_dropped"))
        assert {entry["kept"] for entry in restarted.log_events("duplicate_frame_dropped")} == {first.frame_id}
        assert index.get(camera, first.frame_id) is not None
        for dropped in (same_batch, later, after_restart):
            assert index.get(camera, dropped.frame_id) is None
        # the camera's objects are exactly those of the six frames kept
        assert_exactly_once(index, s3_client(env), env["SENSR_S3_BUCKET"],
                            {camera: [first, *others, *next_one, *last_one]})
    finally:
        index.close()


def ready(worker: Worker) -> bool:
    try:
        return worker.get("/readyz")[0] == 200
    except OSError:  # not listening yet
        return False


def test_a_first_copy_whose_write_failed_is_stored_and_its_retry_is_not(
        private_store_env: dict[str, str], private_seaweed: SeaweedS3, kafka_bootstrap: str,
        unique_name: str, workers: Callable[..., Worker]) -> None:  # noqa: F811 (fixtures)
    """The object store is down while the first copy is written, and the camera's retry
    arrives meanwhile: the batch is redone under the same claims, so the first copy is
    stored once the store is back, and the retry is still a duplicate. Nothing is lost."""
    seaweed, env = private_seaweed, private_store_env
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    worker = workers(env)
    jpeg = make_jpeg(160, 120, seed=13, comment=camera.encode())
    first, retry, after = FrameEvent.new(camera, jpeg, "http"), FrameEvent.new(camera, jpeg, "ftp"), None
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("ready", lambda: ready(worker))
        seaweed.stop()
        produce(kafka_bootstrap, [first])
        wait_for("the first copy's write failed",
                 lambda: worker.metric("sensr_catalog_retries_total", dependency="storage") >= 1)
        produce(kafka_bootstrap, [retry])
        seaweed.start()
        [after] = frames_for(camera, 1, start_seed=40)  # once it is indexed, the retry was judged
        produce(kafka_bootstrap, [after])
        wait_for("the frame after indexed", lambda: index.get(camera, after.frame_id) is not None)
        assert index.get(camera, first.frame_id) is not None
        assert index.get(camera, retry.frame_id) is None
        assert index.totals(camera)[0] == 2
        assert_exactly_once(index, s3_client(env), env["SENSR_S3_BUCKET"], {camera: [first, after]})
    finally:
        index.close()


def test_worker_stores_an_undecodable_frame_once_and_drops_its_retry(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str,  # noqa: F811 (fixtures)
        workers: Callable[..., Worker]) -> None:  # noqa: F811
    """A frame the edges accept but Pillow cannot decode is stored (with a placeholder
    thumbnail), so it keeps its claim: its retry is dropped like any other copy."""
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    truncated = make_jpeg(320, 240, seed=15, comment=camera.encode())[:2000]
    first, retry = FrameEvent.new(camera, truncated, "http"), FrameEvent.new(camera, truncated, "http")
    [after] = frames_for(camera, 1)
    workers(env)
    produce(kafka_bootstrap, [first, retry, after])
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("the frame after indexed", lambda: index.get(camera, after.frame_id) is not None)
        assert index.get(camera, first.frame_id) is not None and index.get(camera, retry.frame_id) is None
        assert index.totals(camera)[0] == 2
    finally:
        index.close()
