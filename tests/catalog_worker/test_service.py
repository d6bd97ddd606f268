"""catalog_worker acceptance: real Kafka, SeaweedFS, SQLite and PostgreSQL, the worker as
a real subprocess (`python -m catalog_worker`), so SIGKILL and SIGTERM are real.

`sensr.frames` is shared by the whole test session: every test uses cameras of its own
and a consumer group of its own, started at the topic's current end, and counts only its
own cameras' frames.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest

from infra.kafka_server import KafkaServer
from infra.seaweedfs import SeaweedS3
from launcher.service_stack import start_group_at_end
from sensr.broker import CATALOG, FRAMES_DLQ
from sensr.frames import FrameEvent, now_us
from sensr.activity import Event, EventRecord, Transition
from sensr.frame_reader import FrameReader
from sensr.index import HOUR_US, FrameIndex, FrameScore
from tests.support.catalog_worker import (Tail, Worker, all_rows, assert_exactly_once, frames_for, object_names,
                                          produce, s3_client, wait_for, wait_until_sealed)
from tests.support.kafka_tap import delete_camera, register_camera
from tests.support.jpegs import hostile_frames, make_jpeg

DAY_US = 86_400_000_000


# -- tests -------------------------------------------------------------------------------

@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_frames_are_stored_byte_identical_with_thumbnails_indexed_and_announced(
        request: pytest.FixtureRequest, database: str, env: dict[str, str], kafka_bootstrap: str,
        unique_name: str, workers: Callable[..., Worker]) -> None:
    if database == "postgresql":
        env = dict(env, SENSR_DATABASE_URL=request.getfixturevalue("postgres_url"))
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    events = frames_for(camera, 30)
    catalog = Tail(kafka_bootstrap, CATALOG)
    worker = workers(env)
    produce(kafka_bootstrap, events)

    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("frames indexed", lambda: index.totals(camera)[0] == len(events))
        client, bucket = s3_client(env), env["SENSR_S3_BUCKET"]
        assert_exactly_once(index, client, bucket, {camera: events})
        reader = FrameReader(client, bucket)
        for event in events:
            row = index.get(camera, event.frame_id)
            assert row is not None
            assert (row.timestamp_us, row.size, row.width, row.height, row.source, row.filename) == \
                   (event.timestamp_us, len(event.jpeg), 160, 120, "http", event.filename)
            assert reader.original(row) == event.jpeg
            thumbnail = reader.thumbnail(row)
            assert thumbnail[:2] == b"\xff\xd8" and len(thumbnail) < len(event.jpeg)
        announced = catalog.collect({camera.encode()}, len(events))
        assert sorted(json.loads(r.value)["frame_id"] for r in announced) == sorted(e.frame_id for e in events)
        first = json.loads(announced[0].value)
        assert first["v"] == 1 and first["camera"] == camera and set(first) >= {"object_key", "thumbnail_key"}
    finally:
        index.close()
        catalog.close()

    wait_for("ready", lambda: worker.get("/readyz")[0] == 200)
    assert worker.metric("sensr_catalog_frames_stored_total") >= len(events)
    assert "sensr_catalog_consumer_lag{" in worker.get("/metrics")[1]
    assert worker.terminate() == 0
    assert worker.log_events("catalog_worker_stopped")


def test_poison_goes_to_the_dlq_with_its_reason_and_later_frames_are_stored(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    camera, stranger, deleted = unique_name, f"{unique_name}-never", f"{unique_name}-deleted"
    register_camera(kafka_bootstrap, camera, "pw")
    register_camera(kafka_bootstrap, deleted, "pw")
    delete_camera(kafka_bootstrap, deleted)
    dlq = Tail(kafka_bootstrap, FRAMES_DLQ)
    workers(env)

    before, after = frames_for(camera, 3), frames_for(camera, 5, start_seed=10)
    refused = FrameEvent.new(camera, hostile_frames()["lossless"], "http")  # check_frame refuses it
    headerless = (camera.encode(), make_jpeg(), [("source", b"http")])
    produce(kafka_bootstrap, before)
    produce(kafka_bootstrap, [refused], raw=[headerless])
    produce(kafka_bootstrap, [*frames_for(stranger, 1), *frames_for(deleted, 1)])
    newcomer = f"{unique_name}-new"  # registered while the worker runs, its frame sent at once
    register_camera(kafka_bootstrap, newcomer, "pw")
    produce(kafka_bootstrap, [*after, *frames_for(newcomer, 1)])

    letters = dlq.collect({camera.encode(), stranger.encode(), deleted.encode()}, 4)
    dlq.close()
    kinds = {r.key.decode(): [] for r in letters}
    for record in letters:
        headers = dict(record.headers)
        assert headers["dlq-reason"] and headers["dlq-origin"].startswith(b"sensr.frames/")
        kinds[record.key.decode()].append(headers["dlq-kind"].decode())
    assert sorted(kinds[camera]) == ["bad_event", "bad_jpeg"]
    assert kinds[stranger] == ["unknown_camera"] and kinds[deleted] == ["unknown_camera"]
    bad_jpeg = next(r for r in letters if dict(r.headers)["dlq-kind"] == b"bad_jpeg")
    assert bad_jpeg.value == refused.jpeg and dict(bad_jpeg.headers)["frame-id"] == refused.frame_id.encode()

    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("good frames indexed", lambda: index.totals(camera)[0] == 8 and index.totals(newcomer)[0] == 1)
        assert_exactly_once(index, s3_client(env), env["SENSR_S3_BUCKET"], {camera: before + after})
        assert index.totals(stranger) == index.totals(deleted) == (0, 0)
    finally:
        index.close()


def test_redelivered_frames_overwrite_the_same_objects_and_add_no_rows(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    """A second group reading the same records is a redelivery of every one of them."""
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    again = f"catalog-{unique_name}-again"
    start_group_at_end(kafka_bootstrap, again)
    events = frames_for(camera, 20)
    first = workers(env)
    produce(kafka_bootstrap, events)
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("frames indexed", lambda: index.totals(camera)[0] == len(events))
        assert first.terminate() == 0
        second = workers(dict(env, SENSR_CATALOG_GROUP_ID=again))
        wait_for("every frame redelivered",
                 lambda: second.metric("sensr_catalog_frames_redelivered_total") == len(events))
        assert second.metric("sensr_catalog_frames_stored_total") == 0
        assert_exactly_once(index, s3_client(env), env["SENSR_S3_BUCKET"], {camera: events})
    finally:
        index.close()


def test_sigkill_mid_run_then_a_new_worker_stores_every_frame_exactly_once(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    cameras = {f"{unique_name}-{n}": frames_for(f"{unique_name}-{n}", 500, start_seed=n) for n in range(4)}
    for camera in cameras:
        register_camera(kafka_bootstrap, camera, "pw")
    first = workers(env)
    produce(kafka_bootstrap, [event for events in cameras.values() for event in events])

    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        def stored() -> int:
            return sum(index.totals(camera)[0] for camera in cameras)

        wait_for("some progress", lambda: stored() >= 300)
        first.kill()
        assert stored() < 2000, "the worker finished before it could be killed mid-run"
        workers(env)
        wait_for("every frame stored", lambda: stored() == 2000, timeout=150)
        assert_exactly_once(index, s3_client(env), env["SENSR_S3_BUCKET"], cameras)
    finally:
        index.close()


def test_two_replicas_share_the_partitions_and_one_leaving_loses_and_doubles_nothing(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    cameras = {f"{unique_name}-{n}": frames_for(f"{unique_name}-{n}", 60, start_seed=n) for n in range(12)}
    for camera in cameras:
        register_camera(kafka_bootstrap, camera, "pw")
    one, two = workers(env), workers(env)

    def assigned(worker: Worker) -> set[int]:
        events = worker.log_events("partitions_assigned")
        return set(events[-1]["partitions"]) if events else set()

    wait_for("both replicas hold partitions", lambda: assigned(one) and assigned(two)
             and not assigned(one) & assigned(two) and len(assigned(one) | assigned(two)) == 6)

    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        def stored() -> int:
            return sum(index.totals(camera)[0] for camera in cameras)

        events = [event for batch in cameras.values() for event in batch]
        producing = threading.Thread(target=lambda: [produce(kafka_bootstrap, events[i:i + 40])
                                                     for i in range(0, len(events), 40)])
        producing.start()
        wait_for("both replicas working", lambda: one.metric("sensr_catalog_frames_stored_total") > 0
                 and two.metric("sensr_catalog_frames_stored_total") > 0)
        assert one.terminate() == 0  # leaves the group mid-run
        producing.join()
        wait_for("every frame stored", lambda: stored() == len(events))
        wait_for("the survivor holds every partition", lambda: len(assigned(two)) == 6)
        assert_exactly_once(index, s3_client(env), env["SENSR_S3_BUCKET"], cameras)
    finally:
        index.close()


def test_object_store_outage_makes_the_worker_wait_then_catch_up(
        private_store_env: dict[str, str], private_seaweed: SeaweedS3, kafka_bootstrap: str, unique_name: str,
        workers: Callable[..., Worker]) -> None:
    seaweed, env = private_seaweed, private_store_env
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    # one object per frame: nothing is listed until it is stored (with segments, frames are
    # listed from Kafka meanwhile: test_segments.py's store-down test)
    worker = workers(env, SENSR_CATALOG_SEGMENTS="false")
    early, late = frames_for(camera, 40), frames_for(camera, 160, start_seed=40)

    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        produce(kafka_bootstrap, early)
        wait_for("early frames", lambda: index.totals(camera)[0] == len(early))
        seaweed.stop()
        produce(kafka_bootstrap, late)
        wait_for("the worker notices", lambda: worker.metric("sensr_catalog_retries_total", dependency="storage") >= 2)
        assert worker.get("/readyz")[0] == 503
        assert index.totals(camera)[0] == len(early)
        wait_for("still retrying", lambda: worker.metric("sensr_catalog_retries_total", dependency="storage") >= 4)
        assert index.totals(camera)[0] == len(early)
        seaweed.start()
        wait_for("caught up", lambda: index.totals(camera)[0] == len(early) + len(late))
        assert_exactly_once(index, s3_client(env), env["SENSR_S3_BUCKET"], {camera: early + late})
        wait_for("ready again", lambda: worker.get("/readyz")[0] == 200)
    finally:
        index.close()


def test_keep_what_matters_cuts_the_frames_it_removes_out_of_their_sealed_segment(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    """Frames sealed, then scored outside every event and past their hours: their rows go,
    and their bytes with them (the segment is rewritten with the frames kept), not when
    the segment expires."""
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw", keep_what_matters=True, unmoving_keep_hours=1)
    frames = frames_for(camera, 6, timestamp_us=now_us() - 3 * HOUR_US)
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    client, bucket = s3_client(env), env["SENSR_S3_BUCKET"]
    try:
        workers(env, SENSR_RETENTION_SWEEP_SECONDS="1")
        produce(kafka_bootstrap, frames)
        wait_for("all listed", lambda: len(all_rows(index, camera)) == len(frames))
        wait_until_sealed(index, [camera])  # not scored yet: kept until now
        [before] = {row.segment_key for row in all_rows(index, camera)}
        index.add_scores([FrameScore(e.frame_id, camera, e.timestamp_us, 5.0 if n in (2, 3) else 0.0, n in (2, 3))
                          for n, e in enumerate(frames)])
        index.save_events([EventRecord(Transition.END, Event(
            f"ev-{camera}", camera, frames[2].timestamp_us, frames[3].timestamp_us, 2, 2, 5.0, frames[2].frame_id))])
        kept, gone = [frames[2], frames[3]], [e for n, e in enumerate(frames) if n not in (2, 3)]
        wait_for("unmoving frames swept", lambda: sorted(r.frame_id for r in all_rows(index, camera)) ==
                 sorted(e.frame_id for e in kept))
        rows = all_rows(index, camera)
        [after] = {row.segment_key for row in rows}
        assert after != before and object_names(client, bucket, camera) == [after]
        body = client.get_object(bucket, after).read()
        assert all(e.jpeg in body for e in kept) and not any(e.jpeg in body for e in gone)
        reader = FrameReader(client, bucket)
        assert {row.frame_id: reader.original(row) for row in rows} == {e.frame_id: e.jpeg for e in kept}
        assert [segment.frames for segment in index.camera_segments(camera)] == [2]
    finally:
        index.close()


def test_retention_sweep_deletes_expired_frames_per_camera(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    short, default = f"{unique_name}-short", f"{unique_name}-default"
    register_camera(kafka_bootstrap, short, "pw", retention_days=1)
    register_camera(kafka_bootstrap, default, "pw")
    now = now_us()
    old = {short: frames_for(short, 5, timestamp_us=now - 2 * DAY_US),
           default: frames_for(default, 5, timestamp_us=now - 4 * DAY_US)}
    kept = {short: frames_for(short, 3), default: frames_for(default, 3, timestamp_us=now - 2 * DAY_US)}
    workers(env, SENSR_RETENTION_DAYS="3", SENSR_RETENTION_SWEEP_SECONDS="1")
    produce(kafka_bootstrap, [e for events in (*old.values(), *kept.values()) for e in events])

    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("expired frames swept", lambda: all(
            sorted(r.frame_id for r in all_rows(index, camera)) == sorted(e.frame_id for e in kept[camera])
            for camera in kept))
        assert_exactly_once(index, s3_client(env), env["SENSR_S3_BUCKET"], kept)
    finally:
        index.close()


def test_a_worker_stops_cleanly_while_kafka_is_down(
        private_kafka: KafkaServer, env: dict[str, str], unique_name: str, workers: Callable[..., Worker]) -> None:
    """SIGTERM with the broker gone in the middle of a run (announcements still in the
    producer): the worker still exits 0 after saying it stopped; closing its Kafka
    clients fails, and that is only logged."""
    env = dict(env, SENSR_KAFKA_BOOTSTRAP=private_kafka.bootstrap)
    camera = unique_name
    register_camera(private_kafka.bootstrap, camera, "pw")
    worker = workers(env)
    produce(private_kafka.bootstrap, frames_for(camera, 400))
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("the run under way", lambda: index.totals(camera)[0] >= 20, timeout=120)
    finally:
        index.close()
    private_kafka.stop()
    code = worker.terminate(timeout=90)
    assert code == 0, worker.log_path.read_text()[-3000:]
    assert worker.log_events("catalog_worker_stopped")


def test_keep_what_matters_removes_unmoving_frames_after_their_hours_objects_and_counts_too(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    """A camera that keeps only what matters loses its scored frames outside every event
    once older than its unmoving_keep_hours; frames of events, unscored frames and recent
    frames stay, and the calendar counts follow. A camera with the policy off keeps all."""
    keeper, plain = f"{unique_name}-keep", f"{unique_name}-all"
    register_camera(kafka_bootstrap, keeper, "pw", keep_what_matters=True, unmoving_keep_hours=1)
    register_camera(kafka_bootstrap, plain, "pw")
    now = now_us()
    old = {camera: frames_for(camera, 6, timestamp_us=now - 3 * HOUR_US) for camera in (keeper, plain)}
    recent = {camera: frames_for(camera, 2) for camera in (keeper, plain)}
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        for camera in (keeper, plain):  # what the activity worker writes: scores of all but the last old frame,
            frames = old[camera]        # frames 2 and 3 moving, in one event
            index.add_scores([FrameScore(e.frame_id, camera, e.timestamp_us, 5.0 if n in (2, 3) else 0.0, n in (2, 3))
                              for n, e in enumerate(frames[:5] + recent[camera])])
            index.save_events([EventRecord(Transition.END, Event(
                f"ev-{camera}", camera, frames[2].timestamp_us, frames[3].timestamp_us, 2, 2, 5.0, frames[2].frame_id))])
        workers(env, SENSR_RETENTION_SWEEP_SECONDS="1")
        produce(kafka_bootstrap, [e for camera in (keeper, plain) for e in old[camera] + recent[camera]])

        kept = {keeper: [old[keeper][n] for n in (2, 3, 5)] + recent[keeper], plain: old[plain] + recent[plain]}
        wait_for("unmoving frames swept", lambda: sorted(r.frame_id for r in all_rows(index, keeper)) ==
                 sorted(e.frame_id for e in kept[keeper]))
        assert sorted(r.frame_id for r in all_rows(index, plain)) == sorted(e.frame_id for e in kept[plain])
        assert_exactly_once(index, s3_client(env), env["SENSR_S3_BUCKET"], kept)
        for camera, frames in kept.items():
            assert index.totals(camera) == (len(frames), sum(len(e.jpeg) for e in frames))
            assert sum(n for _, n in index.hourly_counts(camera, now - DAY_US, now + HOUR_US)) == len(frames)
            assert [(moving, events) for _, moving, events in index.activity_counts(
                camera, now - DAY_US, now + HOUR_US)] == [(2, 1)]
    finally:
        index.close()
