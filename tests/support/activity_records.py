"""Support for the tests of the api's activity routes and pages (no tests here): frames,
scores and events written straight into the index as the catalog and activity workers
would, and activity records produced to `sensr.activity` as the activity worker does."""

from __future__ import annotations

from collections.abc import Callable

from sensr.activity import Event, EventRecord, Transition, activity_key, activity_value
from sensr.broker import ACTIVITY, make_producer
from sensr.index import FrameIndex, FrameRecord, FrameScore
from sensr.settings import CoreSettings, KafkaSettings
from tests.support.api import ApiStack, seed_frames


def seed_activity(stack: ApiStack, username: str, timestamps_us: list[int], scores: list[float],
                  moving_from: float = 2.0, size: tuple[int, int] = (64, 48)) -> list[tuple[FrameRecord, bytes]]:
    """Frames at `timestamps_us` with motion `scores` (moving from `moving_from` on)."""
    seeded = seed_frames(stack, username, timestamps_us, size)
    with_index(stack, lambda index: index.add_scores([
        FrameScore(frame.frame_id, username, frame.timestamp_us, score, score >= moving_from)
        for (frame, _), score in zip(seeded, scores, strict=True)]))
    return seeded


def event_of(frames: list[FrameRecord], scores: list[float], event_id: str) -> Event:
    """The event spanning `frames` (with their `scores`), keyed by its highest score."""
    peak = max(range(len(frames)), key=lambda n: (scores[n], -n))
    return Event(event_id=event_id, camera=frames[0].camera, start_us=frames[0].timestamp_us,
                 end_us=frames[-1].timestamp_us, frame_count=len(frames),
                 moving_frames=sum(score >= 2.0 for score in scores), peak_score=scores[peak],
                 key_frame_id=frames[peak].frame_id)


def save_events(stack: ApiStack, events: list[Event], ended: bool = True) -> None:
    transition = Transition.END if ended else Transition.UPDATE
    with_index(stack, lambda index: index.save_events([EventRecord(transition, event) for event in events]))


def with_index(stack: ApiStack, action: Callable[[FrameIndex], object]) -> None:
    index = FrameIndex.open(stack.env["SENSR_DATABASE_URL"])
    try:
        action(index)
    finally:
        index.close()


def publish_activity(bootstrap: str, records: list[EventRecord]) -> None:
    """Produce records to `sensr.activity` as the activity worker does, acknowledged."""
    producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap))
    try:
        for record in records:
            producer.send(ACTIVITY, key=activity_key(record), value=activity_value(record)).get(timeout=30)
    finally:
        producer.close()
