"""activity_worker on real photographs (scikit-image's `skimage.data` samples), through
the real service and Kafka: a still photographed scene with temporal sensor noise and a
camera's JPEG re-encoding gives no event; a real photographed object cut from another
sample and moved across the scene is one event covering at least 95 % of its frames.

The scene is `coffee` (a cup on a table, 600x400) brought to 320x240; the object is the
head of the cat of `chelsea`, 40x34 (1.8 % of the frame), going across the table. Every
frame gets its own Gaussian noise (sigma 4 grey levels, a fixed seed) and is encoded at a
JPEG quality between 60 and 90, as a cheap camera would send it."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy
from PIL import Image
from skimage import data

from sensr.activity import RecordType
from sensr.index import FrameIndex
from tests.support.activity_worker import NEVER_OFFLINE, ActivityTail, camera_frames, event_records, scored, send
from tests.support.catalog_worker import Worker
from tests.support.kafka_tap import register_camera
from workload.waiting import eventually

SIZE = (320, 240)
STILL, MOVING, AFTER = 120, 60, 20
NOISE_SIGMA = 4.0


def scene() -> numpy.ndarray:
    return numpy.asarray(Image.fromarray(data.coffee()).resize(SIZE, Image.Resampling.LANCZOS), dtype=numpy.float32)


def cat_head() -> numpy.ndarray:
    """The cat's head from `chelsea` (451x300: a 300x255 cut), scaled to 40x34."""
    head = Image.fromarray(data.chelsea()).crop((60, 0, 360, 255)).resize((40, 34), Image.Resampling.LANCZOS)
    return numpy.asarray(head, dtype=numpy.float32)


def photographs(positions: Sequence[tuple[int, int] | None], seed: int = 12) -> list[bytes]:
    """One JPEG per position: the scene with the cat's head at (x, y), or alone for None."""
    rng = numpy.random.default_rng(seed)
    base, head = scene(), cat_head()
    out = []
    for n, position in enumerate(positions):
        frame = base.copy()
        if position is not None:
            x, y = position
            frame[y:y + head.shape[0], x:x + head.shape[1]] = head
        frame += rng.normal(0.0, NOISE_SIGMA, frame.shape).astype(numpy.float32)
        buffer = io.BytesIO()
        Image.fromarray(numpy.clip(frame, 0, 255).astype(numpy.uint8)).save(buffer, "JPEG", quality=60 + (n * 7) % 31)
        out.append(buffer.getvalue())
    return out


def crossing(count: int) -> list[tuple[int, int]]:
    """Left to right across the table, 4 pixels a frame, a little up and down."""
    return [(8 + 4 * n, 150 + round(6 * numpy.sin(n / 5))) for n in range(count)]


def test_real_photographs_a_still_scene_gives_nothing_and_a_moving_object_one_event(
        kafka_bootstrap: str, unique_name: str, activity_env: dict[str, str], activity_index: FrameIndex,
        activity_tail: ActivityTail, activity_workers: Callable[..., Worker]) -> None:
    register_camera(kafka_bootstrap, unique_name, "pw", offline_minutes=NEVER_OFFLINE)
    frames = camera_frames(unique_name, photographs([None] * STILL + crossing(MOVING) + [None] * AFTER))
    activity_workers(activity_env)
    send(kafka_bootstrap, frames)
    result = scored(activity_index, frames)
    assert not any(result.moving[:STILL]), [n for n, moving in enumerate(result.moving[:STILL]) if moving]
    assert result.scene_changes == 0
    assert sum(result.moving[STILL:STILL + MOVING]) >= 0.95 * MOVING
    [stored] = result.events
    event = stored.event
    assert frames[STILL].timestamp_us <= event.start_us <= frames[STILL + 2].timestamp_us
    assert event.frame_count >= 0.95 * MOVING
    records = eventually(lambda: (r := event_records(activity_tail.records({unique_name}))) and r[-1].event.frame_count
                         == event.frame_count and r, 30, what="the event's last update published")
    assert records[0].type is RecordType.EVENT_START
    assert {r.event.event_id for r in records} == {event.event_id}
