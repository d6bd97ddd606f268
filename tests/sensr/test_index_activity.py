"""Activity in the frame index (scores, hourly activity, events), on SQLite and on the real
PostgreSQL. PostgreSQL tests share one database: each test works on cameras of its own name."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sensr.activity import Event, EventRecord, Transition
from sensr.database import make_engine
from sensr.index import HOUR_US, FrameIndex, FrameScore, InvalidCursor, hour_start, metadata
from tests.support.index_records import T0, series

SECOND = 1_000_000


def scores_of(frames, moving_every: int = 1, score: float = 5.0) -> list[FrameScore]:  # type: ignore[no-untyped-def]
    return [FrameScore(f.frame_id, f.camera, f.timestamp_us, score if n % moving_every == 0 else 0.0,
                       moving=n % moving_every == 0) for n, f in enumerate(frames)]


def event(camera: str, n: int, start_us: int, frames: int, end_us: int | None = None) -> Event:
    return Event(event_id=f"{camera}-e{n}", camera=camera, start_us=start_us,
                 end_us=end_us if end_us is not None else start_us + frames * SECOND, frame_count=frames,
                 moving_frames=frames, peak_score=float(frames), key_frame_id=f"{camera}-k{frames}")


def test_scores_are_recorded_once_and_counted_per_hour(index: FrameIndex, unique_name: str) -> None:
    frames = series(unique_name, 120, step_us=60 * SECOND)  # two hours, one frame a minute
    index.add(frames)
    scores = scores_of(frames, moving_every=3)
    assert index.add_scores(scores[:60]) == 60
    assert index.add_scores(scores) == 60
    assert index.add_scores(scores) == 0
    counts = index.activity_counts(unique_name, T0, T0 + 3 * HOUR_US)
    assert sum(moving for _, moving, _ in counts) == 40
    assert index.scores(unique_name, [frames[0].frame_id, "missing"]) == {frames[0].frame_id: scores[0]}
    assert index.latest_score(unique_name) == scores[-1]
    moving = index.page(unique_name, limit=1000, moving_only=True).frames
    assert [f.frame_id for f in moving] == [f.frame_id for f in frames[::3]]
    assert len(index.page(unique_name, limit=1000, min_score=5.0).frames) == 40
    assert len(index.page(unique_name, limit=1000, min_score=0.0).frames) == 120


def test_removing_frames_removes_their_scores_and_keeps_counts_right(index: FrameIndex, unique_name: str) -> None:
    frames = series(unique_name, 30, step_us=SECOND)
    index.add(frames)
    index.add_scores(scores_of(frames))
    assert index.remove(frames[:10]) == 10
    assert sum(m for _, m, _ in index.activity_counts(unique_name, T0, T0 + HOUR_US)) == 20
    assert index.scores(unique_name, [f.frame_id for f in frames[:10]]) == {}
    index.remove(frames)
    assert index.activity_counts(unique_name, T0, T0 + HOUR_US) == []


def test_an_event_row_only_grows_and_an_end_stays(index: FrameIndex, unique_name: str) -> None:
    small, big = event(unique_name, 1, T0, 3), event(unique_name, 1, T0, 9)
    index.save_events([EventRecord(Transition.START, small)])
    assert index.open_events(unique_name) == [small]
    index.save_events([EventRecord(Transition.UPDATE, big), EventRecord(Transition.UPDATE, small)])
    assert index.get_event(unique_name, small.event_id).event == big  # type: ignore[union-attr]
    index.save_events([EventRecord(Transition.END, big)])
    index.save_events([EventRecord(Transition.START, small)])  # re-processed from the start: changes nothing
    stored = index.get_event(unique_name, big.event_id)
    assert stored is not None and stored.event == big and stored.ended
    assert index.open_events(unique_name) == []
    assert index.get_event("other-" + unique_name, big.event_id) is None


def test_events_page_newest_first_with_a_cursor_and_counts_per_hour(index: FrameIndex, unique_name: str) -> None:
    events = [event(unique_name, n, T0 + n * 10 * 60 * SECOND, 2) for n in range(13)]  # two hours and a bit
    index.save_events([EventRecord(Transition.END, e) for e in events])
    for descending in (True, False):
        seen, cursor = [], None
        while True:
            page = index.events_page(unique_name, limit=5, cursor=cursor, descending=descending)
            seen += [stored.event for stored in page.events]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == (events[::-1] if descending else events)
    in_range = index.events_page(unique_name, since_us=T0 + HOUR_US, until_us=T0 + 2 * HOUR_US, limit=50)
    assert [s.event for s in in_range.events] == events[6:12][::-1]
    counts = index.activity_counts(unique_name, T0, T0 + 3 * HOUR_US)
    expected = Counter(hour_start(e.start_us) for e in events)
    assert [(hour, started) for hour, _, started in counts] == sorted(expected.items())
    assert len(expected) == 3
    with pytest.raises(InvalidCursor):
        index.events_page(unique_name, cursor="nonsense!")


def test_keep_what_matters_selects_scored_frames_outside_every_event(index: FrameIndex, unique_name: str) -> None:
    frames = series(unique_name, 60, step_us=SECOND)
    index.add(frames)
    index.add_scores(scores_of(frames[:50], moving_every=1000))  # the last ten are not scored yet
    index.save_events([EventRecord(Transition.END, event(unique_name, 1, T0 + 10 * SECOND, 10, T0 + 19 * SECOND))])
    expired = index.unmoving_expired(unique_name, before_us=T0 + 60 * SECOND, limit=1000)
    assert [f.frame_id for f in expired] == [f.frame_id for f in frames[:10] + frames[20:50]]
    assert len(index.unmoving_expired(unique_name, before_us=T0 + 60 * SECOND, limit=5)) == 5
    assert index.unmoving_expired(unique_name, before_us=T0, limit=10) == []


def test_a_deleted_cameras_activity_goes(index: FrameIndex, unique_name: str) -> None:
    frames = series(unique_name, 5, step_us=SECOND)
    index.add_scores(scores_of(frames))
    index.save_events([EventRecord(Transition.START, event(unique_name, 1, T0, 5))])
    index.remove_camera_activity(unique_name)
    assert index.scores(unique_name, [f.frame_id for f in frames]) == {}
    assert index.activity_counts(unique_name, T0, T0 + HOUR_US) == []
    assert index.events_page(unique_name).events == []


def test_the_migrations_build_the_schema_the_code_declares(index: FrameIndex, index_url: str) -> None:
    """Alembic's comparison of the migrated database with `sensr.index.metadata` finds
    nothing to add, drop or change in the index's tables (a migration and the tables in
    code cannot drift). The PostgreSQL database also holds other parts' tables: ignored."""
    engine = make_engine(index_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    ours = {table.name for table in metadata.sorted_tables}
    assert [d for d in differences if _table_of(d) in ours] == []


def _table_of(difference: Any) -> str:
    """The table an Alembic autogenerate difference is about."""
    if isinstance(difference, list):  # modify_* differences: (op, schema, table, column, ...)
        return str(difference[0][2])
    op, *rest = difference
    if op in ("add_table", "remove_table"):
        return str(rest[0].name)
    if op in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return str(rest[0].table.name)
    return str(rest[1])  # add_column / remove_column: (op, schema, table, column)
