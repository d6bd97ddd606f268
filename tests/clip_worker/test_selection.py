"""Choosing and placing a clip's frames, against the real index (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

from clip_worker.selection import TIME_BASE, choose, place
from sensr.clips import ClipJob
from sensr.index import FrameIndex, FrameRecord

SECOND = 1_000_000
START = 1_790_000_000_000_000


def rows(camera: str, timestamps: list[int]) -> list[FrameRecord]:
    return [FrameRecord(f"{camera}-{n:07d}", camera, ts, 1, 64, 48, "http", f"k{n}", f"t{n}")
            for n, ts in enumerate(timestamps)]


def job(camera: str, since: int, until: int, **options: object) -> ClipJob:
    return ClipJob(job_id="j", camera=camera, since_us=since, until_us=until, object_key="x", **options)  # type: ignore[arg-type]


def test_a_range_within_the_limit_is_read_whole(index: FrameIndex) -> None:
    camera = uuid.uuid4().hex[:8]
    index.add(rows(camera, [START + n * SECOND for n in range(2500)]))
    chosen = choose(index, job(camera, START, START + 2500 * SECOND, max_frames=3000))
    assert [f.timestamp_us for f in chosen] == [START + n * SECOND for n in range(2500)]


def test_a_long_range_is_sampled_by_time_one_frame_per_slot(index: FrameIndex) -> None:
    """20,000 frames 1 s apart sampled to 100: every 200th, by timestamp."""
    camera = uuid.uuid4().hex[:8]
    index.add(rows(camera, [START + n * SECOND for n in range(20_000)]))
    chosen = choose(index, job(camera, START - 10 * SECOND, START + 30_000 * SECOND, max_frames=100))
    assert len(chosen) == 100
    assert [f.timestamp_us for f in chosen] == [START + n * 200 * SECOND for n in range(100)]


def test_slots_without_frames_are_skipped(index: FrameIndex) -> None:
    camera = uuid.uuid4().hex[:8]
    morning, evening = [START + n * SECOND for n in range(1000)], [START + (9000 + n) * SECOND for n in range(1000)]
    index.add(rows(camera, morning + evening))
    chosen = choose(index, job(camera, START, START + 10_000 * SECOND, max_frames=100))
    assert 15 <= len(chosen) <= 25
    assert all(f.timestamp_us in set(morning + evening) for f in chosen)


def test_time_lapse_places_one_frame_per_output_frame_and_speeds_by_timestamp() -> None:
    frames = rows("c", [START, START + 3 * SECOND, START + 4 * SECOND])
    assert [p.pts for p in place(frames, job("c", START, START + 9, speed="timelapse", fps=25))] == [
        0, TIME_BASE // 25, 2 * TIME_BASE // 25]
    assert [p.pts for p in place(frames, job("c", START, START + 9, speed="factor", factor=2.0))] == [
        0, 3 * TIME_BASE // 2, 2 * TIME_BASE]
    assert [p.pts for p in place(frames, job("c", START, START + 9, speed="realtime"))] == [0, 3 * TIME_BASE, 4 * TIME_BASE]


def test_frames_that_would_show_at_the_same_tick_keep_the_first() -> None:
    frames = rows("c", [START, START + 1, START + SECOND])
    assert [p.frame.timestamp_us for p in place(frames, job("c", START, START + 9, speed="factor", factor=1000.0))] == [
        START, START + SECOND]
