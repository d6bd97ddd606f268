"""Frame index query times at 1,000,000 rows for one camera, on SQLite and PostgreSQL.

    python bench/index_queries.py                      # SQLite in a temp dir + a throwaway PostgreSQL
    python bench/index_queries.py --rows 200000 --postgres-url postgresql://...   # reuse a server

Loads one camera's frames (one every 2.6 s over about a month) through `FrameIndex.add`
in large batches, then times each query the api makes (median and worst of several runs,
each run on a cold-ish random point in time). Goal: every query under 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from sensr.frames import new_frame_id
from sensr.index import HOUR_US, FrameIndex, FrameRecord

T0 = 1_790_000_000_000_000
STEP_US = 2_600_000  # ~1M frames in 30 days
DAY_US = 24 * HOUR_US
CAMERA = "bench-cam"
LOAD_BATCH = 20_000
GOAL_MS = 50.0


def frames(count: int) -> list[FrameRecord]:
    rows = []
    for n in range(count):
        ts = T0 + n * STEP_US
        frame_id = new_frame_id(ts)
        key = f"{CAMERA}/{ts}-{frame_id}"
        rows.append(FrameRecord(frame_id, CAMERA, ts, 100_000 + n % 5000, 1920, 1080, "ftp",
                                f"{key}.jpg", f"{key}.thumb.jpg"))
    return rows


def load(index: FrameIndex, rows: list[FrameRecord]) -> float:
    """Add every row in batches; returns rows per second."""
    started = time.perf_counter()
    for start in range(0, len(rows), LOAD_BATCH):
        index.add(rows[start:start + LOAD_BATCH])
    return len(rows) / (time.perf_counter() - started)


def timed(run: Callable[[float], object], repeats: int = 20) -> tuple[float, float]:
    """(median, worst) milliseconds of `run(point)` over random points in the loaded month."""
    rng = random.Random(7)
    times = []
    for _ in range(repeats):
        point = rng.random()
        started = time.perf_counter()
        run(point)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def queries(index: FrameIndex, count: int) -> dict[str, Callable[[float], object]]:
    span = count * STEP_US

    def at(point: float) -> int:
        return T0 + int(point * span * 0.9)

    def page_with_cursor(point: float) -> object:
        first = index.page(CAMERA, since_us=at(point), limit=100)
        return index.page(CAMERA, since_us=at(point), limit=100, cursor=first.next_cursor)

    return {
        "page of 100 from a middle time": lambda p: index.page(CAMERA, since_us=at(p), limit=100),
        "page of 100, descending, in a day": lambda p: index.page(CAMERA, at(p), at(p) + DAY_US, 100,
                                                                  descending=True),
        "page with cursor (2nd page)": page_with_cursor,
        "latest": lambda p: index.latest(CAMERA),
        "hourly counts over a day": lambda p: index.hourly_counts(CAMERA, at(p), at(p) + DAY_US),
        "hourly counts over a month": lambda p: index.hourly_counts(CAMERA, T0, T0 + 31 * DAY_US),
        "totals": lambda p: index.totals(CAMERA),
        "get by id": lambda p: index.get(CAMERA, new_frame_id(at(p))),
        "expired (500 oldest)": lambda p: index.expired(CAMERA, at(p), 500),
    }


def bench(name: str, url: str, rows: list[FrameRecord]) -> bool:
    index = FrameIndex.open(url)
    try:
        rate = load(index, rows)
        assert index.totals(CAMERA)[0] == len(rows), "load incomplete (database not empty?)"
        if url.startswith("postgresql"):
            _analyze(url)
        print(f"\n{name}: loaded {len(rows):,} rows at {rate:,.0f} rows/s through FrameIndex.add")
        ok = True
        for label, run in queries(index, len(rows)).items():
            median, worst = timed(run)
            ok &= worst < GOAL_MS
            print(f"  {label:36s} median {median:7.2f} ms   worst {worst:7.2f} ms"
                  f"   {'ok' if worst < GOAL_MS else 'OVER GOAL'}")
        return ok
    finally:
        index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database (default: start a throwaway one)")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    rows = frames(args.rows)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sensr-bench-index-")))
        ok = bench("SQLite", f"sqlite:///{folder / 'index.sqlite'}", rows)
        if not args.skip_postgres:
            url = args.postgres_url or _throwaway_postgres(stack, folder)
            ok &= bench("PostgreSQL", url, rows)
    print(f"\nall queries under {GOAL_MS:.0f} ms: {'yes' if ok else 'NO'}")


def _analyze(url: str) -> None:
    """Refresh the planner's statistics, as autovacuum does shortly after a bulk load; with
    the stale ones a range query may pick a bitmap scan and sort instead of the index order."""
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE frames")


def _throwaway_postgres(stack: ExitStack, folder: Path) -> str:
    from infra.postgres import PostgresCluster
    folder.chmod(0o755)
    cluster = PostgresCluster(folder / "postgres")
    cluster.start()
    stack.callback(cluster.stop)
    return cluster.url


if __name__ == "__main__":
    main()
