"""activity_worker acceptance: the worker as a real subprocess on real Kafka, scoring
sequences ffmpeg makes (tests/support/activity_frames.py) sent to `sensr.frames` with
synthetic timestamps, writing a SQLite index and publishing on `sensr.activity`.

Each test has cameras, a consumer group and an index of its own; `sensr.frames` is
shared, so a worker also scores other tests' frames, and every assertion is about the
test's own cameras."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path

from PIL import Image

from activity_worker.motion import WARMUP_FRAMES
from launcher.service_stack import start_group_at_end
from sensr.activity import PresenceRecord, RecordType
from sensr.broker import FRAMES
from sensr.frames import H_FRAME_ID, now_us
from sensr.index import FrameIndex
from sensr.kafka_frames import KafkaFrames
from tests.support.activity_frames import across, brighter, jpeg, jpegs, lamp_lit, scene_frames
from tests.support.activity_worker import (NEVER_OFFLINE, ActivityTail, camera_frames, event_records, scored,
                                           send)
from tests.support.catalog_worker import Worker
from tests.support.kafka_tap import register_camera, update_camera
from workload.waiting import eventually

BOX = (32, 24)  # 768 pixels: 1 % of 320x240


@cache
def still(count: int) -> tuple[Image.Image, ...]:
    return tuple(scene_frames(count))


@cache
def crossing(count: int, width: int = BOX[0], height: int = BOX[1], left: int = 0,
             right: int | None = None) -> tuple[Image.Image, ...]:
    return tuple(scene_frames(count, boxes=[across(width, height, left=left, right=right)]))


def ready(worker: Worker) -> bool:
    try:
        return worker.get("/readyz")[0] == 200
    except OSError:
        return False


def camera(bootstrap: str, name: str, **settings: object) -> str:
    register_camera(bootstrap, name, "pw", **{"offline_minutes": NEVER_OFFLINE, **settings})
    return name


def test_a_static_noisy_scene_at_jpeg_qualities_50_to_95_gives_no_event(
        kafka_bootstrap: str, unique_name: str, activity_env: dict[str, str], activity_index: FrameIndex,
        activity_tail: ActivityTail, activity_workers: Callable[..., Worker]) -> None:
    cam = camera(kafka_bootstrap, unique_name)
    qualities = [50 + (n * 5) % 50 for n in range(600)]  # 50, 55, ... 95, 50, ...
    frames = camera_frames(cam, [jpeg(image, q) for image, q in zip(still(600), qualities)])
    worker = activity_workers(activity_env)
    send(kafka_bootstrap, frames)
    result = scored(activity_index, frames)
    assert not any(result.moving), [n for n, m in enumerate(result.moving) if m]
    assert result.events == []
    assert result.scene_changes == 0
    assert event_records(activity_tail.records({cam})) == []
    assert worker.get("/readyz")[0] == 200 and worker.get("/healthz")[0] == 200
    assert worker.metric("sensr_activity_frames_scored_total", verdict="quiet") >= 600 - WARMUP_FRAMES


def test_an_object_of_1_percent_is_found_in_95_percent_of_its_frames_as_one_event(
        kafka_bootstrap: str, unique_name: str, activity_env: dict[str, str], activity_index: FrameIndex,
        activity_tail: ActivityTail, activity_workers: Callable[..., Worker]) -> None:
    cam = camera(kafka_bootstrap, unique_name)
    frames = camera_frames(cam, jpegs([*still(20), *crossing(150)]))
    worker = activity_workers(activity_env)
    send(kafka_bootstrap, frames)
    result = scored(activity_index, frames)
    assert not any(result.moving[:20])
    assert sum(result.moving[20:]) >= 0.95 * 150
    [stored] = result.events
    event = stored.event
    assert event.start_us == frames[20].timestamp_us or event.start_us <= frames[22].timestamp_us
    assert event.moving_frames == sum(result.moving)
    records = eventually(lambda: (r := event_records(activity_tail.records({cam}))) and r[-1].event.frame_count
                         == event.frame_count and r, 30, what="the event's last update published")
    assert records[0].type is RecordType.EVENT_START
    assert {r.event.event_id for r in records} == {event.event_id}
    # Every record says where its key frame is on sensr.frames: the notifier reads it there.
    jpegs_by_id = {frame.frame_id: frame.jpeg for frame in frames}
    reader = KafkaFrames(kafka_bootstrap, size=1, max_record_bytes=1 << 20)
    try:
        for record in records:
            assert record.key_frame_location is not None, record
            found = reader.read(FRAMES, record.key_frame_location.partition, record.key_frame_location.offset)
            assert dict(found.headers)[H_FRAME_ID] == record.event.key_frame_id.encode()
            assert found.value == jpegs_by_id[record.event.key_frame_id]
    finally:
        reader.close()
    assert worker.metric("sensr_activity_events_opened_total") >= 1
    assert worker.metric("sensr_activity_score_seconds_count") >= len(frames)


def test_a_30_percent_brightness_ramp_over_a_minute_gives_no_event(
        kafka_bootstrap: str, unique_name: str, activity_env: dict[str, str], activity_index: FrameIndex,
        activity_workers: Callable[..., Worker]) -> None:
    cam = camera(kafka_bootstrap, unique_name)
    ramp = [brighter(image, 1 + 0.3 * n / 599) for n, image in enumerate(still(600))]  # 60 s at 10 fps
    frames = camera_frames(cam, jpegs(ramp))
    activity_workers(activity_env)
    send(kafka_bootstrap, frames)
    result = scored(activity_index, frames)
    assert not any(result.moving)
    assert result.events == []


def test_lights_switched_on_give_at_most_one_scene_change_mark_and_no_event(
        kafka_bootstrap: str, unique_name: str, activity_env: dict[str, str], activity_index: FrameIndex,
        activity_tail: ActivityTail, activity_workers: Callable[..., Worker]) -> None:
    cam = camera(kafka_bootstrap, unique_name)
    images = still(120)
    frames = camera_frames(cam, jpegs([*images[:60], *(lamp_lit(image) for image in images[60:])]))
    activity_workers(activity_env)
    send(kafka_bootstrap, frames)
    result = scored(activity_index, frames)
    assert result.scene_changes <= 1
    assert not any(result.moving)
    assert result.events == []
    assert event_records(activity_tail.records({cam})) == []


def test_a_higher_sensitivity_never_finds_less(
        kafka_bootstrap: str, unique_name: str, activity_env: dict[str, str], activity_index: FrameIndex,
        activity_workers: Callable[..., Worker]) -> None:
    """The same frames (a small, 0.3 % box) to cameras of sensitivity 2, 5 and 9: each
    finds the frames the less sensitive one found, and the most sensitive finds more."""
    images = jpegs([*still(20), *crossing(100, 16, 14)])
    cams = {level: camera(kafka_bootstrap, f"{unique_name}-s{level}", sensitivity=level) for level in (2, 5, 9)}
    frames = {level: camera_frames(cam, images) for level, cam in cams.items()}
    activity_workers(activity_env)
    send(kafka_bootstrap, [frame for sequence in frames.values() for frame in sequence])
    found = {level: scored(activity_index, sequence).moving for level, sequence in frames.items()}
    for low, high in ((2, 5), (5, 9)):
        assert all(h for lo, h in zip(found[low], found[high]) if lo), (low, high)
    assert sum(found[9]) > sum(found[2])


def test_an_ignore_zone_hides_motion_inside_it_and_nothing_else(
        kafka_bootstrap: str, unique_name: str, activity_env: dict[str, str], activity_index: FrameIndex,
        activity_workers: Callable[..., Worker]) -> None:
    """The left half ignored: a box moving in the left half is not seen, one moving in the
    right half is, as by a camera without zones."""
    zone = ((0.0, 0.0, 0.5, 1.0),)
    left = jpegs([*still(20), *crossing(100, left=0, right=160)])
    right = jpegs([*still(20), *crossing(100, left=160, right=320)])
    inside = camera_frames(camera(kafka_bootstrap, f"{unique_name}-in", ignore_zones=zone), left)
    outside = camera_frames(camera(kafka_bootstrap, f"{unique_name}-out", ignore_zones=zone), right)
    plain = camera_frames(camera(kafka_bootstrap, f"{unique_name}-plain"), right)
    activity_workers(activity_env)
    send(kafka_bootstrap, inside + outside + plain)
    assert not any(scored(activity_index, inside).moving)
    seen, seen_plain = scored(activity_index, outside).moving, scored(activity_index, plain).moving
    assert sum(seen[20:]) >= 0.95 * 100
    assert sum(seen) >= sum(seen_plain) - 2  # the zone takes nothing from the watched half


def test_a_settings_change_applies_to_the_next_frames(
        kafka_bootstrap: str, unique_name: str, activity_env: dict[str, str], activity_index: FrameIndex,
        activity_workers: Callable[..., Worker]) -> None:
    """The whole frame ignored, then the zone removed on sensr.cameras: the camera's
    later frames are scored without it, with no restart."""
    login = register_camera(kafka_bootstrap, unique_name, "pw", offline_minutes=NEVER_OFFLINE,
                            ignore_zones=((0.0, 0.0, 1.0, 1.0),))
    images = jpegs([*still(20), *crossing(100)])
    activity_workers(activity_env)
    first = camera_frames(unique_name, images[:60])
    send(kafka_bootstrap, first)
    assert not any(scored(activity_index, first).moving)
    update_camera(kafka_bootstrap, replace(login, ignore_zones=()))
    later = iter(camera_frames(unique_name, images[60:], start_us=first[-1].timestamp_us + 100_000))

    def next_frames_moving() -> bool:  # the table follows sensr.cameras live: within seconds
        chunk = [next(later) for _ in range(5)]
        send(kafka_bootstrap, chunk)
        return any(scored(activity_index, chunk).moving)

    eventually(next_frames_moving, 10, 0, what="a moving frame seen once the zone is gone")


def test_a_camera_silent_for_its_offline_minutes_is_announced_offline_once_and_online_once(
        kafka_bootstrap: str, unique_name: str, activity_env: dict[str, str], activity_index: FrameIndex,
        activity_tail: ActivityTail, activity_workers: Callable[..., Worker]) -> None:
    """Frames that stopped 10 minutes ago, offline after 1 minute: one camera.offline
    named by the last frame; its next frame: one camera.online named by it. A camera
    never seen and a disabled one that also stopped are never announced."""
    cam = register_camera(kafka_bootstrap, unique_name, "pw", offline_minutes=1).username
    disabled = register_camera(kafka_bootstrap, f"{unique_name}-off", "pw", offline_minutes=1, enabled=False).username
    register_camera(kafka_bootstrap, f"{unique_name}-never", "pw", offline_minutes=1)
    images = jpegs(still(12))
    old = camera_frames(cam, images[:10], start_us=now_us() - 600_000_000)
    old_disabled = camera_frames(disabled, images[:10], start_us=now_us() - 600_000_000)
    worker = activity_workers(activity_env)
    send(kafka_bootstrap, old + old_disabled)
    scored(activity_index, old)
    cameras = {cam, disabled, f"{unique_name}-never"}
    [offline] = eventually(lambda: list({r.record_id: r for r in activity_tail.records(cameras)}.values()), 30,
                           what="the offline record")
    assert isinstance(offline, PresenceRecord) and offline.type is RecordType.CAMERA_OFFLINE
    assert (offline.camera, offline.last_frame_id, offline.last_frame_us) == \
           (cam, old[-1].frame_id, old[-1].timestamp_us)
    assert offline.record_id == f"{old[-1].frame_id}:offline"
    back = camera_frames(cam, images[10:], start_us=now_us())
    send(kafka_bootstrap, back)
    scored(activity_index, back)
    records = eventually(lambda: r if len(r := activity_tail.records(cameras)) >= 2 else None, 30,
                         what="the online record")
    # At least once: a record may be read twice; readers deduplicate by id, so ids are what count.
    assert list(dict.fromkeys((r.type, r.record_id) for r in records)) == [
        (RecordType.CAMERA_OFFLINE, f"{old[-1].frame_id}:offline"),
        (RecordType.CAMERA_ONLINE, f"{back[0].frame_id}:online")], (records, [f.frame_id for f in old + back])
    ticks = worker.metric("sensr_activity_frames_scored_total")
    eventually(lambda: worker.metric("sensr_activity_frames_scored_total") >= ticks, 5)
    assert len({r.record_id for r in activity_tail.records(cameras, timeout=2)}) == 2  # nothing more, ticks later


def test_sigkill_in_the_middle_of_an_event_then_restart_gives_the_events_of_an_uninterrupted_run(
        kafka_bootstrap: str, unique_name: str, stack_env: dict[str, str], tmp_path: Path,
        activity_tail: ActivityTail, activity_workers: Callable[..., Worker]) -> None:
    """The same frames to two workers with indexes and groups of their own: one runs
    through, the other is SIGKILLed while the second event is open (some of its batch
    scored, not committed) and restarted. Same event ids, spans and frame counts; the
    restarted one only misses the moving frames its model spends warming up again; and
    sensr.activity holds no other event."""
    # 100 quiet frames end an event. The frames are stamped from now on, as an edge stamps
    # them when they come: Sensr time on an idle partition runs with the wall clock
    # (activity_worker/stream_clock.py), and frames stamped 40 s ago would have their
    # event ended while the restarted worker waits for the rest of them.
    cam = camera(kafka_bootstrap, unique_name, event_gap_seconds=10)
    images = jpegs([*still(20), *crossing(60), *still(110), *crossing(100), *still(110)])
    frames = camera_frames(cam, images, start_us=now_us())
    runs = {}
    for run in ("through", "killed"):
        group = f"activity-{unique_name}-{run}"
        start_group_at_end(kafka_bootstrap, group)
        runs[run] = dict(stack_env, SENSR_ACTIVITY_GROUP_ID=group, SENSR_ACTIVITY_BATCH_SIZE="4",
                         SENSR_DATABASE_URL=f"sqlite:///{tmp_path / f'{run}.sqlite'}")
    killed = activity_workers(runs["killed"])
    eventually(lambda: ready(killed), 60, what="the worker ready")
    indexes = {run: FrameIndex.open(env["SENSR_DATABASE_URL"]) for run, env in runs.items()}
    try:
        send(kafka_bootstrap, frames[:230])  # the second event opens at frame 190
        ids = [frame.frame_id for frame in frames]
        eventually(lambda: len(indexes["killed"].scores(cam, ids)) >= 205, 60, 0.01, what="the second event open")
        killed.kill()
        assert indexes["killed"].open_events(cam)
        activity_workers(runs["killed"])
        send(kafka_bootstrap, frames[230:])
        activity_workers(runs["through"])  # only now: all the frames at once, no pause the clock would end an event in
        results = {run: scored(index, frames) for run, index in indexes.items()}
        expected = [(e.event.event_id, e.event.start_us, e.event.end_us, e.event.frame_count, e.ended)
                    for e in results["through"].events]
        assert len(expected) == 2 and all(ended for *_, ended in expected)
        eventually(lambda: [(e.event.event_id, e.event.start_us, e.event.end_us, e.event.frame_count, e.ended)
                            for e in indexes["killed"].events_page(cam, descending=False).events] == expected, 30,
                   what="the killed run's events as the uninterrupted run's")
        for done, redone in zip(results["through"].events, indexes["killed"].events_page(cam, descending=False).events):
            assert done.event.moving_frames - WARMUP_FRAMES <= redone.event.moving_frames <= done.event.moving_frames
        published = event_records(activity_tail.records({cam}, timeout=2))
        assert {r.event.event_id for r in published} == {event_id for event_id, *_ in expected}
        assert [r.record_id for r in published if r.type is RecordType.EVENT_END].count(f"{expected[1][0]}:end") >= 1
    finally:
        for index in indexes.values():
            index.close()
