"""One camera's state (activity_worker/camera.py) on a real SQLite index: a takeover
resumes the open event from the stored scores, a redelivered frame is not scored again,
and presence is announced once each way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from activity_worker.camera import CameraActivity
from activity_worker.stream_clock import StreamClock
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
    assert state.tick(last.timestamp_us + 2 * MINUTE_US, caught_up=True, stream_us=None) == []  # frames still arriving
    clock.now += 10
    assert state.tick(last.timestamp_us + 2 * MINUTE_US, caught_up=False, stream_us=None) == []  # a backlog: never
    assert state.tick(last.timestamp_us + 30_000_000, caught_up=True, stream_us=None) == []  # not silent long enough
    [offline] = state.tick(last.timestamp_us + 2 * MINUTE_US, caught_up=True, stream_us=None)
    assert isinstance(offline, PresenceRecord) and offline.record_id == f"{last.frame_id}:offline"
    assert state.tick(last.timestamp_us + 3 * MINUTE_US, caught_up=True, stream_us=None) == []  # once
    back = frames_of("cam", sequence[2:3], start_us=last.timestamp_us + 3 * MINUTE_US)[0]
    [online] = [r for r in run(state, index, [back]) if isinstance(r, PresenceRecord)]
    assert (online.type, online.record_id) == (RecordType.CAMERA_ONLINE, f"{back.frame_id}:online")


def test_a_disabled_camera_is_never_announced_offline(index: FrameIndex, sequence: list[bytes]) -> None:
    clock = Clock()
    state, _ = CameraActivity.resume("cam", login(offline_minutes=1, enabled=False), index, clock)
    frames = frames_of("cam", sequence[:2])
    run(state, index, frames)
    clock.now += 10
    assert state.tick(frames[-1].timestamp_us + 5 * MINUTE_US, caught_up=True, stream_us=None) == []


def test_an_event_ends_by_sensr_time_never_by_the_workers_clock(index: FrameIndex, sequence: list[bytes]) -> None:
    clock = Clock()
    state, _ = CameraActivity.resume("cam", login(offline_minutes=0), index, clock)
    frames = frames_of("cam", sequence[:40])  # ends mid-movement
    records = run(state, index, frames)
    assert any(isinstance(r, EventRecord) and r.transition is Transition.START for r in records)
    last = frames[-1].timestamp_us
    clock.now += 3600.0  # a stalled worker, a clock stepped forward: nothing ends by them
    assert state.tick(last + 3600 * 1_000_000, caught_up=True, stream_us=last) == []
    assert state.tick(last, caught_up=True, stream_us=None) == []
    assert state.tick(last, caught_up=True, stream_us=last + 1_900_000) == []
    [end] = state.tick(last, caught_up=False, stream_us=last + 2_000_000)  # the 2 s gap in Sensr time
    assert isinstance(end, EventRecord) and end.transition is Transition.END and end.event.end_us == last


class Partition:
    """One partition of `sensr.frames` read as the activity loop reads it: in batches, each
    handled camera by camera, then a tick with the partition's `StreamClock`, under clocks
    the test drives (a wall clock and a monotonic clock that may jump)."""

    def __init__(self, index: FrameIndex, wall_us: Callable[[], int], monotonic: Callable[[], float]) -> None:
        self.index = index
        self.stream = StreamClock(wall_us, monotonic)
        self.cameras: dict[str, CameraActivity] = {}
        self.records: list[EventRecord] = []

    def batch(self, frames: list[FrameEvent], idle: bool) -> None:
        for frame in frames:
            if frame.camera not in self.cameras:
                self.cameras[frame.camera], _ = CameraActivity.resume(frame.camera, login(), self.index)
            self.keep(run(self.cameras[frame.camera], self.index, [frame]))
        for frame in frames:
            self.stream.observe(0, frame.timestamp_us)
        for state in self.cameras.values():
            self.keep(state.tick(0, caught_up=idle, stream_us=self.stream.now(0, idle)))

    def keep(self, records: list) -> None:
        events = [r for r in records if isinstance(r, EventRecord)]
        self.index.save_events(events)
        self.records.extend(events)

    def events(self, camera: str) -> list[tuple[str, int, int, int, int]]:
        return [(e.event.event_id, e.event.start_us, e.event.end_us, e.event.frame_count, e.event.moving_frames)
                for e in self.index.events_page(camera, descending=False).events]


@pytest.fixture(scope="module")
def partition_frames(sequence: list[bytes]) -> list[FrameEvent]:
    """Camera "cam" moving, silent for 15 s while "other" sends still frames, moving
    again; in the order of their timestamps, as one partition holds them."""
    still = sequence[:20] + sequence[60:]
    cam = frames_of("cam", sequence[:45]) + frames_of("cam", sequence[20:60], start_us=T0 + 20_000_000)
    other = frames_of("other", [still[n % len(still)] for n in range(260)], start_us=T0 + 50_000)
    return sorted(cam + other, key=lambda frame: frame.timestamp_us)


@pytest.mark.parametrize("how", ["live", "backlog_on_a_stalling_worker", "wall_clock_jumps"])
def test_the_same_frames_give_the_same_events_whatever_the_speed_and_the_clocks(
        tmp_path: Path, partition_frames: list[FrameEvent], how: str) -> None:
    """A live worker (a batch per frame, ticks in step with the frames, always read to the
    end) is the reference; a worker that reads a backlog an hour late in batches of 50 and
    stalls 100 s at every batch, and a live one whose wall clock jumps an hour ahead half-way,
    give the same events and end them at the same frame of the partition."""
    def play(how: str, name: str) -> tuple[Partition, list[int]]:
        wall = {"now": 0, "jump": 0}
        mono = {"now": 0.0}
        part = Partition(FrameIndex.open(f"sqlite:///{tmp_path / name}"), lambda: wall["now"] + wall["jump"],
                         lambda: mono["now"])
        ended_at: list[int] = []  # the partition's position when each event ended
        size = 50 if how == "backlog_on_a_stalling_worker" else 1
        for start in range(0, len(partition_frames), size):
            batch = partition_frames[start:start + size]
            if how == "backlog_on_a_stalling_worker":
                wall["now"], mono["now"] = T0 + 3600 * 1_000_000, mono["now"] + 100.0
            else:
                wall["now"] = batch[-1].timestamp_us
                mono["now"] = (batch[-1].timestamp_us - T0) / 1_000_000
                jumped = how == "wall_clock_jumps" and start > len(partition_frames) // 2
                wall["jump"] = 3600 * 1_000_000 if jumped else 0
            ends = len([r for r in part.records if r.transition is Transition.END])
            part.batch(batch, idle=how != "backlog_on_a_stalling_worker" or start + size >= len(partition_frames))
            ended_at += [start + size] * (len([r for r in part.records if r.transition is Transition.END]) - ends)
        return part, ended_at

    live, live_ends = play("live", "reference.sqlite")
    other, other_ends = play(how, f"{how}.sqlite")
    try:
        assert len(live.events("cam")) == 2 and live.events("other") == []
        assert other.events("cam") == live.events("cam")
        first_end = live.events("cam")[0][2]
        second_start = live.events("cam")[1][1]
        reached = partition_frames[live_ends[0] - 1].timestamp_us
        assert first_end + 7_000_000 <= reached < second_start  # by the other camera's frames: gap + settle
        if how == "wall_clock_jumps":
            assert other_ends == live_ends
        assert [r.event.event_id for r in other.records if r.transition is Transition.END] == \
               [r.event.event_id for r in live.records if r.transition is Transition.END]
    finally:
        live.index.close()
        other.index.close()
