"""What a day timeline costs with 86,400 frames in the day (one a second), against the
baseline of listing the day's frames, measured in the same run on the same database.

    python bench/timeline_queries.py                      # SQLite in a temp dir
    python bench/timeline_queries.py --database-url postgresql://...   # an empty database

The timeline asks the index for the day's density in one-minute buckets with each
bucket's first frame (`FrameIndex.buckets`, 1,440 rows) and, when the cursor stops, for
the frame at an instant (`FrameIndex.frame_at`). The baseline is what a page without them
would need: every frame of the day (`FrameIndex.page` in pages of 1,000). Reports the
median and worst time of each, and the rows each returns. Goal: the day's buckets at
least 5x faster than listing the day, and the frame at an instant under 10 ms.

The web UI's timeline.json also draws the day's motion: the frames found moving per
minute (`FrameIndex.moving_buckets`; here one frame in ten of the day is scored moving)
and the day's motion events with their key frames' times (`api.timeline.span_events`;
here one event every ten minutes). Goal: the whole answer (density, motion and events)
still at least 3x faster than listing the day.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from api.timeline import span_events
from sensr.activity import Event, EventRecord, Transition
from sensr.frames import new_frame_id
from sensr.index import FrameIndex, FrameRecord, FrameScore

DAY_START = 1_773_446_400_000_000  # 2026-03-14 00:00 UTC
SECOND = 1_000_000
DAY = 86_400 * SECOND
CAMERA = "bench-timeline"


def load(index: FrameIndex) -> None:
    rows = [FrameRecord(new_frame_id(DAY_START + n * SECOND), CAMERA, DAY_START + n * SECOND, 100_000, 1920, 1080,
                        "ftp", f"{CAMERA}/{n}.jpg", f"{CAMERA}/{n}.thumb.jpg", camera_time_us=DAY_START + n * SECOND)
            for n in range(86_400)]
    for start in range(0, len(rows), 20_000):
        index.add(rows[start:start + 20_000])
        index.add_scores([FrameScore(r.frame_id, CAMERA, r.timestamp_us, 5.0 if n % 600 < 60 else 0.1, n % 600 < 60)
                          for n, r in enumerate(rows[start:start + 20_000], start=start)])
    index.save_events([EventRecord(Transition.END, Event(f"event-{n}", CAMERA, rows[n].timestamp_us,
                                                         rows[n + 59].timestamp_us, 60, 60, 5.0, rows[n + 30].frame_id))
                       for n in range(0, len(rows), 600)])


def timeline_answer(index: FrameIndex) -> int:
    """What the web UI's timeline.json reads for the day: density, motion, events."""
    buckets = index.buckets(CAMERA, DAY_START, DAY_START + DAY, 60 * SECOND)
    moving = index.moving_buckets(CAMERA, DAY_START, DAY_START + DAY, 60 * SECOND)
    events = span_events(index, CAMERA, DAY_START, DAY_START + DAY)
    return len(buckets) + len(moving) + len(events.events)


def whole_day(index: FrameIndex) -> int:
    rows, cursor = 0, None
    while True:
        page = index.page(CAMERA, DAY_START, DAY_START + DAY, 1000, cursor)
        rows += len(page.frames)
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def timed(run: Callable[[], int], repeats: int) -> tuple[float, float, int]:
    times, rows = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        rows = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temp dir)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        index = FrameIndex.open(args.database_url or f"sqlite:///{Path(folder) / 'index.sqlite'}")
        try:
            load(index)
            rng = random.Random(7)
            results = {
                "baseline: every frame of the day (pages of 1,000)": timed(lambda: whole_day(index), args.repeats),
                "day in one-minute buckets": timed(
                    lambda: len(index.buckets(CAMERA, DAY_START, DAY_START + DAY, 60 * SECOND)), args.repeats),
                "hour in one-second buckets": timed(
                    lambda: len(index.buckets(CAMERA, DAY_START + 12 * 3600 * SECOND, DAY_START + 13 * 3600 * SECOND,
                                              SECOND)), args.repeats),
                "moving frames of the day in one-minute buckets": timed(
                    lambda: len(index.moving_buckets(CAMERA, DAY_START, DAY_START + DAY, 60 * SECOND)), args.repeats),
                "the day's motion events and their key frames": timed(
                    lambda: len(span_events(index, CAMERA, DAY_START, DAY_START + DAY).events), args.repeats),
                "timeline.json of the day (density, motion, events)": timed(lambda: timeline_answer(index), args.repeats),
                "frame at an instant": timed(
                    lambda: int(index.frame_at(CAMERA, DAY_START + rng.randrange(DAY)) is not None), args.repeats * 5),
            }
        finally:
            index.close()
    for name, (median, worst, rows) in results.items():
        print(f"{name:55s} median {median:8.1f} ms   worst {worst:8.1f} ms   rows {rows:,}")
    baseline = results["baseline: every frame of the day (pages of 1,000)"][0]
    buckets = results["day in one-minute buckets"][0]
    at = results["frame at an instant"][0]
    whole = results["timeline.json of the day (density, motion, events)"][0]
    print(f"buckets vs baseline: {baseline / buckets:.1f}x faster (goal >= 5x); frame at an instant {at:.2f} ms "
          f"(goal < 10 ms); the timeline with motion and events vs baseline: {baseline / whole:.1f}x faster "
          f"(goal >= 3x)")
    if baseline / buckets < 5 or at >= 10 or baseline / whole < 3:
        raise SystemExit("goal missed")


if __name__ == "__main__":
    main()
