"""Events (activity_worker/events.py): the grouping rules on given motion results, then on
real sequences through the motion model: restarts, re-processing and lights."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest
from ulid import ULID

from activity_worker.events import EventSettings, EventTracker, event_id
from sensr.activity import Event, EventRecord, FrameLocation, Transition
from activity_worker.motion import WARMUP_FRAMES, MotionModel, MotionResult
from tests.support.activity_frames import (
    RATE, across, brighter, jpegs, jpeg, lamp_lit, run_camera, scene_frames, timestamp_us)

SECOND = 1_000_000
QUIET = MotionResult(score=0.0, moving=False)
WARMING = MotionResult(score=0.0, moving=False, warming_up=True)
SCENE = MotionResult(score=80.0, moving=False, scene_change=True)


def moving(score: float = 2.0) -> MotionResult:
    return MotionResult(score=score, moving=True)


def feed(tracker: EventTracker, frames: Iterable[tuple[float, MotionResult]]) -> list[EventRecord]:
    """Frames given as (seconds since start, result); ids are f<index>."""
    changes = []
    for index, (seconds, result) in enumerate(frames):
        changes += tracker.observe(f"f{index}", round(seconds * SECOND), result)
    return changes


def kinds(changes: Sequence[EventRecord]) -> list[str]:
    return [change.transition.value for change in changes]


def ended(changes: Sequence[EventRecord]) -> list[Event]:
    return [change.event for change in changes if change.transition is Transition.END]


def test_moving_frames_make_one_event_that_ends_after_the_quiet_gap() -> None:
    tracker = EventTracker("cam")
    frames = [(0, QUIET), (1, moving(2)), (2, moving(5)), (3, QUIET), (4, moving(3)),
              (20, QUIET), (33, QUIET), (34, QUIET)]
    changes = feed(tracker, frames)
    assert kinds(changes) == ["start", "update", "update", "end"]
    [event] = ended(changes)
    assert event.start_us == 1 * SECOND and event.end_us == 4 * SECOND
    assert (event.frame_count, event.moving_frames) == (4, 3)
    assert (event.peak_score, event.key_frame_id) == (5, "f2")
    assert tracker.open_event is None


def test_the_end_comes_with_the_first_frame_a_full_gap_after_the_last_moving_one() -> None:
    tracker = EventTracker("cam", EventSettings(gap_seconds=10))
    assert kinds(feed(tracker, [(0, moving()), (9.9, QUIET)])) == ["start"]
    assert kinds(tracker.observe("late", 10 * SECOND, QUIET)) == ["end"]


def test_a_moving_frame_after_the_gap_ends_the_event_and_opens_another() -> None:
    tracker = EventTracker("cam", EventSettings(gap_seconds=10))
    changes = feed(tracker, [(0, moving()), (5, moving()), (16, moving())])
    assert kinds(changes) == ["start", "update", "end", "start"]
    assert changes[2].event.event_id != changes[3].event.event_id
    assert changes[3].event.start_us == 16 * SECOND


def test_the_gap_is_measured_in_frame_timestamps_not_in_wall_time() -> None:
    """The same frames give the same events however fast they are processed: a backlog
    replayed in a second still has its 40-second pause."""
    frames = [(0, moving()), (40, moving()), (45, moving())]
    assert kinds(feed(EventTracker("cam"), frames)) == ["start", "end", "start", "update"]


def test_the_key_frame_is_the_first_with_the_highest_score() -> None:
    changes = feed(EventTracker("cam"), [(0, moving(3)), (1, moving(7)), (2, moving(7)), (3, moving(1))])
    assert changes[-1].event.key_frame_id == "f1" and changes[-1].event.peak_score == 7


def test_every_record_of_an_event_says_where_its_key_frame_is_on_the_frames_topic() -> None:
    """The location follows the key frame (the first with the highest score), not the
    frame that caused the record; frames replayed from stored scores have none."""
    tracker = EventTracker("cam", EventSettings(gap_seconds=10))
    at = {n: FrameLocation(partition=2, offset=100 + n) for n in range(4)}
    results = [moving(3), moving(7), moving(7), QUIET]
    changes = [c for n, result in enumerate(results)
               for c in tracker.observe(f"f{n}", n * SECOND, result, at[n])]
    changes += tracker.expire(30 * SECOND)
    assert [(c.transition.value, c.event.key_frame_id, c.key_frame_location) for c in changes] == [
        ("start", "f0", at[0]), ("update", "f1", at[1]), ("update", "f1", at[1]), ("end", "f1", at[1])]
    replayed = EventTracker("cam")
    assert {c.key_frame_location for c in feed(replayed, [(0, moving(3)), (1, moving(7))])} == {None}


def test_frames_that_are_not_moving_neither_open_nor_extend_an_event() -> None:
    tracker = EventTracker("cam", EventSettings(gap_seconds=5))
    assert feed(tracker, [(i, result) for i, result in enumerate([WARMING] * 8 + [SCENE] + [WARMING] * 7)]) == []
    changes = feed(tracker, [(0, moving()), (1, SCENE), (2, WARMING), (6, WARMING)])
    assert kinds(changes) == ["start", "end"]
    assert ended(changes)[0].end_us == 0


def test_expire_ends_a_silent_cameras_event_at_the_given_time() -> None:
    tracker = EventTracker("cam", EventSettings(gap_seconds=30))
    feed(tracker, [(0, moving()), (2, moving())])
    assert tracker.expire(31 * SECOND) == []
    [end] = tracker.expire(32 * SECOND)
    assert end.transition is Transition.END and end.event.end_us == 2 * SECOND
    assert tracker.expire(100 * SECOND) == []


def test_a_new_gap_setting_applies_to_the_open_event() -> None:
    tracker = EventTracker("cam")
    feed(tracker, [(0, moving())])
    tracker.settings = EventSettings(gap_seconds=5)
    assert kinds(tracker.observe("f9", 5 * SECOND, QUIET)) == ["end"]


def test_the_event_id_is_a_ulid_of_the_first_frames_time_derived_from_camera_and_frame() -> None:
    first = event_id("cam", "f0", 1_780_000_000_123_456)
    assert first == event_id("cam", "f0", 1_780_000_000_123_456)
    assert first != event_id("cam2", "f0", 1_780_000_000_123_456)
    assert first != event_id("cam", "f1", 1_780_000_000_123_456)
    assert ULID.from_str(first).milliseconds == 1_780_000_000_123
    assert event_id("cam", "f0", 1_780_000_000_000_000) < event_id("cam", "f0", 1_780_000_001_000_000)


@pytest.mark.parametrize("gap", [0, -1])
def test_the_gap_must_be_positive(gap: float) -> None:
    with pytest.raises(ValueError):
        EventSettings(gap_seconds=gap)


# Through the motion model, on sequences ffmpeg makes (10 frames per second).

def passes() -> list[bytes]:
    """Quiet, a box crossing for 6 s, quiet for 40 s (longer than the gap), crossing
    again for 4 s, quiet."""
    quiet = scene_frames(RATE * 50)
    crossing = scene_frames(RATE * 6, boxes=[across(32, 24)])
    frames = quiet[:30] + crossing + quiet[30:30 + RATE * 40] + crossing[:RATE * 4] + quiet[-20:]
    return jpegs(frames)


@pytest.fixture(scope="module")
def sequence() -> list[bytes]:
    return passes()


def all_changes(frames: Sequence[bytes], first_index: int = 0) -> list[EventRecord]:
    tracker = EventTracker("cam")
    changes = [c for _, _, found in run_camera(MotionModel(), tracker, frames, first_index) for c in found]
    return changes + tracker.expire(timestamp_us(first_index + len(frames)) + 60 * SECOND)


def test_two_passes_of_an_object_are_two_events(sequence: list[bytes]) -> None:
    events = ended(all_changes(sequence))
    assert len(events) == 2
    first, second = events
    assert first.start_us == timestamp_us(30) and first.moving_frames >= 0.95 * RATE * 6
    assert second.moving_frames >= 0.95 * RATE * 4
    assert first.frame_count == (first.end_us - first.start_us) * RATE // SECOND + 1


def test_processing_the_same_frames_again_gives_the_same_events(sequence: list[bytes]) -> None:
    """At-least-once delivery: a second run over the frames, from the start or from a
    point before an event (a restart replays from its last committed offset), gives the
    same events with the same ids."""
    whole = all_changes(sequence)
    assert all_changes(sequence) == whole
    replay_from = 30 + RATE * 6 + RATE * 10  # inside the quiet time between the passes
    replayed = all_changes(sequence[replay_from:], first_index=replay_from)
    assert [identity(e) for e in ended(replayed)] == [identity(e) for e in ended(whole)[1:]]


def identity(event: Event) -> tuple[str, int, int, int]:
    """What a replay must give again. (The scores may differ in their last digits: a model
    warmed up on other frames has a slightly different background.)"""
    return event.event_id, event.start_us, event.end_us, event.frame_count


def test_a_restart_in_the_middle_of_an_event_causes_no_false_event(sequence: list[bytes]) -> None:
    """The restarted model warms up first: its first frames open nothing; the event it
    then finds is part of the one of an uninterrupted run (its end within a second of
    it: the object was in the warm-up frames, and its trace takes a few frames to fade),
    and the next event is the same as in the uninterrupted run."""
    whole = ended(all_changes(sequence))
    restart_at = 30 + RATE * 3  # the object is half-way across
    after = all_changes(sequence[restart_at:], first_index=restart_at)
    starts = [c.event.start_us for c in after if c.transition is Transition.START]
    assert min(starts) >= timestamp_us(restart_at + WARMUP_FRAMES)
    cut, rest = ended(after)
    assert whole[0].start_us < cut.start_us and abs(cut.end_us - whole[0].end_us) <= SECOND
    assert identity(rest) == identity(whole[1])


def test_restarts_in_a_still_scene_never_cause_an_event() -> None:
    frames = jpegs(scene_frames(300))
    for restart_at in range(0, 300, 25):
        assert all_changes(frames[restart_at:restart_at + 60], first_index=restart_at) == []


def test_lights_switched_on_open_no_event_storm() -> None:
    images = scene_frames(200)
    frames = [jpeg(brighter(im, 0.35) if i < 60 else lamp_lit(im)) for i, im in enumerate(images)]
    tracker = EventTracker("cam")
    marks, changes = [], []
    for index, result, found in run_camera(MotionModel(), tracker, frames):
        marks += [index] if result.scene_change else []
        changes += found
    assert len(marks) <= 1 and changes == []

