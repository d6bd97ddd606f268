"""activity_worker acceptance: the worker as a real subprocess on real Kafka, scoring
sequences ffmpeg makes (tests/support/activity_frames.py) sent to `sensr.frames` with
synthetic timestamps, writing a SQLite index and publishing on `sensr.activity`.

Each test has cameras, a consumer group and an index of its own; `sensr.frames` is
shared, so a worker also scores other tests' frames, and every assertion is about the
test's own cameras."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest
from PIL import Image

from activity_worker.motion import WARMUP_FRAMES
from sensr.activity import PresenceRecord, RecordType
from sensr.frames import now_us
from sensr.index import FrameIndex
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
    assert worker.get("/readyz")[0] == 200
    assert worker.metric('sensr_activity_frames_scored_total{verdict="quiet"}') >= 600 - WARMUP_FRAMES


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
    assert worker.metric("sensr_activity_events_opened_total") >= 1
    assert worker.metric("sensr_activity_score_seconds_count") >= len(frames)
