"""The frame index, every behaviour on SQLite (a file in tmp) and on the real PostgreSQL.

PostgreSQL tests share one database: each test works on cameras of its own name."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensr.index import HOUR_US, FrameIndex, FrameRecord, InvalidCursor, hour_start
from tests.support.index_records import T0, frame, series

DAY_US = 24 * HOUR_US


def test_add_then_get_returns_the_same_record(index: FrameIndex, unique_name: str) -> None:
    record = FrameRecord(f"{unique_name}-f1", unique_name, T0, 1234, 1920, 1080, "ftp", "o.jpg", "o.thumb.jpg", "image.jpg")
    assert index.add([record]) == 1
    assert index.get(unique_name, record.frame_id) == record
    assert index.get(unique_name, "missing") is None
    assert index.get("other-" + unique_name, record.frame_id) is None


def test_add_ignores_duplicates_and_counts_only_new_rows(index: FrameIndex, unique_name: str) -> None:
    frames = series(unique_name, 10)
    assert index.add(frames[:6]) == 6
    assert index.add(frames) == 4
    assert index.add(frames + frames) == 0
    assert index.add([]) == 0
    assert index.totals(unique_name) == (10, sum(f.size for f in frames))
    assert sum(n for _, n in index.hourly_counts(unique_name, T0, T0 + DAY_US)) == 10


def test_page_walks_every_frame_in_time_order_with_a_cursor(index: FrameIndex, unique_name: str) -> None:
    same_instant = [frame(unique_name, 100 + n, T0 + 5 * 60_000_000) for n in range(7)]  # ties: frame_id order
    frames = series(unique_name, 23) + same_instant
    index.add(frames)
    expected = sorted(frames, key=lambda f: (f.timestamp_us, f.frame_id))
    for descending in (False, True):
        seen, cursor = [], None
        while True:
            page = index.page(unique_name, limit=4, cursor=cursor, descending=descending)
            assert len(page.frames) <= 4
            seen.extend(page.frames)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == (expected[::-1] if descending else expected)


def test_page_bounds_are_since_inclusive_until_exclusive(index: FrameIndex, unique_name: str) -> None:
    frames = series(unique_name, 10)
    index.add(frames)
    page = index.page(unique_name, since_us=frames[2].timestamp_us, until_us=frames[7].timestamp_us)
    assert page.frames == frames[2:7]
    assert page.next_cursor is None
    page = index.page(unique_name, since_us=frames[2].timestamp_us, until_us=frames[7].timestamp_us,
                      descending=True, limit=2)
    assert page.frames == [frames[6], frames[5]]
    rest = index.page(unique_name, since_us=frames[2].timestamp_us, until_us=frames[7].timestamp_us,
                      descending=True, limit=10, cursor=page.next_cursor)
    assert rest.frames == [frames[4], frames[3], frames[2]]
    assert index.page("nobody-" + unique_name).frames == []


def test_page_refuses_a_foreign_cursor_and_a_bad_limit(index: FrameIndex, unique_name: str) -> None:
    with pytest.raises(InvalidCursor):
        index.page(unique_name, cursor="not a cursor!")
    with pytest.raises(InvalidCursor):
        index.page(unique_name, cursor="bm90LWEtbnVtYmVy")  # "not-a-number"
    with pytest.raises(ValueError):
        index.page(unique_name, limit=0)


def test_latest_is_the_newest_frame(index: FrameIndex, unique_name: str) -> None:
    assert index.latest(unique_name) is None
    frames = series(unique_name, 5)
    index.add(frames[::-1])
    assert index.latest(unique_name) == frames[-1]


def test_hourly_counts_and_totals_follow_adds_and_removals(index: FrameIndex, unique_name: str) -> None:
    start = hour_start(T0)
    frames = series(unique_name, 30, step_us=10 * 60_000_000, start=start)  # 6 per hour over 5 hours
    index.add(frames)
    hours = [(start + h * HOUR_US, 6) for h in range(5)]
    assert index.hourly_counts(unique_name, start, start + DAY_US) == hours
    assert index.hourly_counts(unique_name, start + HOUR_US + 1, start + 3 * HOUR_US) == hours[1:3]
    assert index.totals(unique_name) == (30, sum(f.size for f in frames))

    assert index.remove(frames[:8] + [frame(unique_name, 999, T0)]) == 8  # the unknown frame is not counted
    assert index.remove(frames[:8]) == 0
    assert index.hourly_counts(unique_name, start, start + DAY_US) == [(start + HOUR_US, 4), *hours[2:]]
    assert index.totals(unique_name) == (22, sum(f.size for f in frames[8:]))
    assert index.totals("nobody-" + unique_name) == (0, 0)


def test_expired_lists_the_oldest_frames_before_a_time(index: FrameIndex, unique_name: str) -> None:
    frames = series(unique_name, 10)
    index.add(frames)
    assert index.expired(unique_name, frames[6].timestamp_us, limit=4) == frames[:4]
    assert index.expired(unique_name, frames[6].timestamp_us, limit=100) == frames[:6]
    assert index.expired(unique_name, frames[0].timestamp_us, limit=100) == []


def test_cameras_lists_cameras_that_have_frames(index: FrameIndex, unique_name: str) -> None:
    first, second = f"{unique_name}-a", f"{unique_name}-b"
    frames = series(first, 3) + series(second, 2)
    index.add(frames)
    assert {first, second} <= set(index.cameras())
    index.remove(frames[3:])
    assert first in index.cameras() and second not in index.cameras()


def test_concurrent_writers_from_threads_keep_counts_exact(index: FrameIndex, unique_name: str) -> None:
    """Overlapping batches from several threads (as replicas after a rebalance): each row once."""
    frames = series(unique_name, 400, step_us=1_000_000)
    inserted: list[int] = []

    def write(offset: int) -> None:
        for start in range(offset, 400, 50):
            inserted.append(index.add(frames[start:start + 100]))

    threads = [threading.Thread(target=write, args=(offset,)) for offset in (0, 0, 25, 50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(inserted) == 400
    assert index.totals(unique_name) == (400, sum(f.size for f in frames))
    assert sum(n for _, n in index.hourly_counts(unique_name, T0, T0 + DAY_US)) == 400


def test_several_processes_may_open_and_migrate_a_new_database_at_once(index_url: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}" if index_url.startswith("sqlite") else _new_pg_database(index_url)
    errors: list[BaseException] = []
    opened: list[FrameIndex] = []

    def open_one() -> None:
        try:
            opened.append(FrameIndex.open(url))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert opened[0].add(series("cam", 3)) == 3
        assert opened[-1].totals("cam") == (3, 3003)
    finally:
        for index in opened:
            index.close()


def test_sqlite_index_uses_wal_mode(tmp_path: Path) -> None:
    index = FrameIndex.open(f"sqlite:///{tmp_path / 'sub' / 'index.sqlite'}")
    try:
        with index._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        index.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stamps=st.lists(st.integers(0, 5 * HOUR_US), max_size=40), limit=st.integers(1, 7),
       bounds=st.tuples(st.integers(0, 5 * HOUR_US), st.integers(0, 5 * HOUR_US)))
def test_paging_agrees_with_a_sorted_list(tmp_path: Path, stamps: list[int], limit: int,
                                           bounds: tuple[int, int]) -> None:
    """Property (SQLite only, for speed): concatenated pages = the filtered, sorted frames."""
    camera = uuid.uuid4().hex
    index = FrameIndex.open(f"sqlite:///{tmp_path / 'property.sqlite'}")
    try:
        frames = [frame(camera, n, T0 + stamp) for n, stamp in enumerate(stamps)]
        index.add(frames)
        since, until = T0 + min(bounds), T0 + max(bounds)
        expected = sorted((f for f in frames if since <= f.timestamp_us < until),
                          key=lambda f: (f.timestamp_us, f.frame_id))
        seen, cursor = [], None
        while True:
            page = index.page(camera, since, until, limit=limit, cursor=cursor)
            seen.extend(page.frames)
            if (cursor := page.next_cursor) is None:
                break
        assert seen == expected
        counts = index.hourly_counts(camera, T0, T0 + 6 * HOUR_US)
        assert sum(n for _, n in counts) == len(frames)
    finally:
        index.close()


def _new_pg_database(url: str) -> str:
    """A fresh, empty database in the test cluster (to watch a first migration race)."""
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"
