"""One camera's state (activity_worker/camera.py) on a real SQLite index: a takeover
resumes the open event from the stored scores, a redelivered frame is not scored again,
and presence is announced once each way."""

from __future__ import annotations

from pathlib import Path

import pytest

from activity_worker.camera import CameraActivity
from sensr.activity import EventRecord, PresenceRecord, RecordType, Transition
from sensr.cameras import CameraLogin
from sensr.frames import FrameEvent, new_frame_id
from sensr.index import FrameIndex
from tests.support.activity_frames import across, jpegs, scene_frames

MINUTE_US = 60_000_000
T0 = 1_780_000_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def sequence() -> list[bytes]:
    """20 still frames, 40 with a 1 % box moving, 40 still again."""
    still = scene_frames(100)
    moving = scene_frames(40, boxes=[across(32, 24)])
    return jpegs([*still[:20], *moving, *still[60:]])


@pytest.fixture
def index(tmp_path: Path) -> FrameIndex:
    opened = FrameIndex.open(f"sqlite:///{tmp_path / 'index.sqlite'}")
    yield opened
    opened.close()


def frames_of(camera: str, images: list[bytes], start_us: int = T0) -> list[FrameEvent]:
    return [FrameEvent(camera, data, new_frame_id(start_us + n * 100_000), start_us + n * 100_000, "http")
            for n, data in enumerate(images)]


def login(**settings: object) -> CameraLogin:
    return CameraLogin.create("cam", "id-cam", "owner", "pw", event_gap_seconds=2, **settings)  # type: ignore[arg-type]


def run(state: CameraActivity, index: FrameIndex, frames: list[FrameEvent]) -> list:
    """Take frames as the processor does (events, then scores), returning the records."""
    out = []
    for frame in frames:
        score, records = state.take(frame, frame.timestamp_us)
        index.save_events([r for r in records if isinstance(r, EventRecord)])
        if score is not None:
            index.add_scores([score])
        out.extend(records)
    return out


def test_a_takeover_mid_event_resumes_the_same_event_and_skips_what_was_scored(
        tmp_path: Path, sequence: list[bytes]) -> None:
    frames = frames_of("cam", sequence)
    reference = FrameIndex.open(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    resumed = FrameIndex.open(f"sqlite:///{tmp_path / 'resumed.sqlite'}")
    try:
        through, _ = CameraActivity.resume("cam", login(), reference)
        run(through, reference, frames)
        first, _ = CameraActivity.resume("cam", login(), resumed)
        run(first, resumed, frames[:45])  # mid-event
        second, replayed = CameraActivity.resume("cam", login(), resumed)
        assert [r.event.event_id for r in replayed] == [e.event_id for e in resumed.open_events("cam")]
        assert second.tracker.open_event == first.tracker.open_event  # replayed from the stored scores
        assert run(second, resumed, frames[40:45]) == []  # redelivered: not scored again, no record
        run(second, resumed, frames[45:])
        done = [e.event for e in reference.events_page("cam", descending=False).events]
        redone = [e.event for e in resumed.events_page("cam", descending=False).events]
        assert [(e.event_id, e.start_us, e.frame_count) for e in redone] == \
               [(e.event_id, e.start_us, e.frame_count) for e in done]
        assert len(done) == 1
    finally:
        reference.close()
        resumed.close()


def test_offline_once_when_caught_up_and_silent_then_online_with_the_next_frame(
        index: FrameIndex, sequence: list[bytes]) -> None:
    clock = Clock()
    state, _ = CameraActivity.resume("cam", login(offline_minutes=1), index, clock)
    frames = frames_of("cam", sequence[:3])
    run(state, index, frames[:2])
    last = frames[1]
    assert state.tick(last.timestamp_us + 2 * MINUTE_US, caught_up=True) == []  # frames still arriving
    clock.now += 10
    assert state.tick(last.timestamp_us + 2 * MINUTE_US, caught_up=False) == []  # a backlog: never
    assert state.tick(last.timestamp_us + 30_000_000, caught_up=True) == []  # not silent long enough
    [offline] = state.tick(last.timestamp_us + 2 * MINUTE_US, caught_up=True)
    assert isinstance(offline, PresenceRecord) and offline.record_id == f"{last.frame_id}:offline"
    assert state.tick(last.timestamp_us + 3 * MINUTE_US, caught_up=True) == []  # once
    back = frames_of("cam", sequence[2:3], start_us=last.timestamp_us + 3 * MINUTE_US)[0]
    [online] = [r for r in run(state, index, [back]) if isinstance(r, PresenceRecord)]
    assert (online.type, online.record_id) == (RecordType.CAMERA_ONLINE, f"{back.frame_id}:online")


def test_a_disabled_camera_is_never_announced_offline(index: FrameIndex, sequence: list[bytes]) -> None:
    clock = Clock()
    state, _ = CameraActivity.resume("cam", login(offline_minutes=1, enabled=False), index, clock)
    frames = frames_of("cam", sequence[:2])
    run(state, index, frames)
    clock.now += 10
    assert state.tick(frames[-1].timestamp_us + 5 * MINUTE_US, caught_up=True) == []


def test_an_event_ends_by_the_clock_when_the_camera_falls_silent(index: FrameIndex, sequence: list[bytes]) -> None:
    clock = Clock()
    state, _ = CameraActivity.resume("cam", login(), index, clock)
    records = run(state, index, frames_of("cam", sequence[:40]))  # ends mid-movement
    assert any(isinstance(r, EventRecord) and r.transition is Transition.START for r in records)
    clock.now += 1.0
    assert state.tick(0, caught_up=True) == []
    clock.now += 1.5  # the 2 s gap has passed on the worker's clock
    [end] = state.tick(0, caught_up=True)
    assert isinstance(end, EventRecord) and end.transition is Transition.END
