"""The index queries a day timeline and the camera status need (`buckets`, `frame_at`,
`count`, `slice`) and the camera's own clock kept per frame (migration 0005_ui15), on
SQLite and on a fresh database of the real PostgreSQL (a database of its own: the
session's shared one may be at another branch's revision)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sensr.index import FrameIndex, FrameRecord, FrameScore
from tests.support.api import drop_postgres_database, new_postgres_database

T0 = 1_790_000_000_000_000 - 1_790_000_000_000_000 % 86_400_000_000  # a midnight in 2026, in µs
SECOND = 1_000_000
MINUTE = 60 * SECOND


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FrameIndex]:
    if request.param == "sqlite":
        opened = FrameIndex.open(f"sqlite:///{tmp_path / 'index.sqlite'}")
        yield opened
        opened.close()
        return
    server = request.getfixturevalue("postgres_url")
    url, name = new_postgres_database(server)
    opened = FrameIndex.open(url)
    yield opened
    opened.close()
    drop_postgres_database(server, name)


def frame(n: int, timestamp_us: int, camera: str = "cam1") -> FrameRecord:
    return FrameRecord(frame_id=f"f{timestamp_us:017d}-{n:05d}", camera=camera, timestamp_us=timestamp_us,
                       size=1000, width=640, height=480, source="ftp", object_key=f"o{n}", thumbnail_key=f"t{n}")


def test_the_camera_clock_is_kept_and_optional(fresh_index: FrameIndex) -> None:
    told = replace(frame(1, T0), filename="SensrCam2010102011073001.jpg", camera_time_us=1_287_572_850_010_000)
    untold = frame(2, T0 + SECOND)
    fresh_index.add([told, untold])
    assert fresh_index.get("cam1", told.frame_id) == told
    assert fresh_index.get("cam1", untold.frame_id).camera_time_us is None  # type: ignore[union-attr]


def test_buckets_give_density_and_each_bucket_s_first_frame(fresh_index: FrameIndex) -> None:
    frames = [frame(n, T0 + n * 20 * SECOND) for n in range(9)]  # 3 a minute for 3 minutes
    frames += [frame(100, T0 + 10 * MINUTE + 5 * SECOND), frame(101, T0 + 10 * MINUTE + 5 * SECOND)]  # a tie
    frames.append(frame(200, T0 + 10 * MINUTE, camera="cam2"))  # another camera: not counted
    fresh_index.add(frames)
    buckets = fresh_index.buckets("cam1", T0, T0 + 86_400 * SECOND, MINUTE)
    assert buckets == [(0, 3, frames[0].frame_id, T0), (1, 3, frames[3].frame_id, T0 + MINUTE),
                       (2, 3, frames[6].frame_id, T0 + 2 * MINUTE),
                       (10, 2, frames[9].frame_id, T0 + 10 * MINUTE + 5 * SECOND)]
    assert fresh_index.buckets("cam1", T0 + MINUTE, T0 + 2 * MINUTE, SECOND) == [
        (0, 1, frames[3].frame_id, T0 + MINUTE), (20, 1, frames[4].frame_id, T0 + MINUTE + 20 * SECOND),
        (40, 1, frames[5].frame_id, T0 + MINUTE + 40 * SECOND)]
    assert fresh_index.buckets("cam1", T0 - MINUTE, T0, MINUTE) == []


def test_frame_at_is_the_last_frame_at_or_before_else_the_first_after(fresh_index: FrameIndex) -> None:
    frames = [frame(n, T0 + n * MINUTE) for n in range(1, 4)]
    fresh_index.add(frames)
    assert fresh_index.frame_at("cam1", T0 + 2 * MINUTE) == frames[1]
    assert fresh_index.frame_at("cam1", T0 + 2 * MINUTE + 59 * SECOND) == frames[1]
    assert fresh_index.frame_at("cam1", T0) == frames[0]  # nothing before: the first after
    assert fresh_index.frame_at("cam1", T0 + 86_400 * SECOND) == frames[2]
    assert fresh_index.frame_at("cam9", T0) is None


def test_count_and_numbered_slices_of_an_hour(fresh_index: FrameIndex) -> None:
    frames = [frame(n, T0 + n * SECOND) for n in range(250)]
    fresh_index.add(frames)
    assert fresh_index.count("cam1", T0, T0 + 3600 * SECOND) == 250
    assert fresh_index.count("cam1", T0 + 10 * SECOND, T0 + 20 * SECOND) == 10
    assert fresh_index.slice("cam1", T0, T0 + 3600 * SECOND, 120, 120) == frames[120:240]
    assert fresh_index.slice("cam1", T0, T0 + 3600 * SECOND, 240, 120) == frames[240:]


def test_moving_buckets_count_the_frames_found_moving(fresh_index: FrameIndex) -> None:
    frames = [frame(n, T0 + n * 20 * SECOND) for n in range(9)]  # 3 a minute for 3 minutes
    other = frame(100, T0 + 30 * SECOND, camera="cam2")
    fresh_index.add([*frames, other])
    moving = {0, 1, 7}  # two in minute 0, one in minute 2
    fresh_index.add_scores([FrameScore(f.frame_id, f.camera, f.timestamp_us, 9.0 if n in moving else 0.1,
                                       n in moving, False) for n, f in enumerate(frames)]
                           + [FrameScore(other.frame_id, "cam2", other.timestamp_us, 9.0, True, False)])
    assert fresh_index.moving_buckets("cam1", T0, T0 + 86_400 * SECOND, MINUTE) == [(0, 2), (2, 1)]
    assert fresh_index.moving_buckets("cam1", T0 + MINUTE, T0 + 3 * MINUTE, 20 * SECOND) == [(4, 1)]  # frame 7, 80 s in
    assert fresh_index.moving_buckets("cam9", T0, T0 + MINUTE, MINUTE) == []


def test_frame_times_by_id_of_the_camera_only(fresh_index: FrameIndex) -> None:
    frames = [frame(n, T0 + n * SECOND) for n in range(3)]
    other = frame(9, T0, camera="cam2")
    fresh_index.add([*frames, other])
    wanted = [frames[2].frame_id, frames[0].frame_id, other.frame_id, "gone"]
    assert fresh_index.frame_times("cam1", wanted) == {frames[0].frame_id: T0, frames[2].frame_id: T0 + 2 * SECOND}
    assert fresh_index.frame_times("cam1", []) == {}
