"""The frame index: one row per stored frame, queried by camera and time.

One code path (SQLAlchemy Core) for SQLite (default: a file in WAL mode) and PostgreSQL
(`postgresql://...`, through psycopg 3). The schema is migrated by Alembic at `open()`,
with its own version table, under a lock, so several processes may open one database at
once. Rows are keyed by frame id: adding a re-delivered frame is a no-op, which turns the
catalog worker's at-least-once delivery into an exactly-once effect.

Per-hour counts and per-camera totals live in two small tables kept right in the same
transaction as every insert and removal (counting only rows that really changed), so the
calendar and totals never scan the frames table. Time order is `(timestamp_us, frame_id)`,
served by the index `frames_camera_time`; paging is keyset paging with an opaque cursor.

Content claims (`frame_contents`, one row per camera and content digest) say which frame
holds each distinct content of a camera; `claim_contents` takes them for the catalog
worker's duplicate rule (see `catalog_worker.dedup`), and a removed frame's claim goes
with it.

Activity (written by the activity worker, read by the api and the retention sweep): one
motion score per frame (`frame_scores`, its own table because a frame may be scored before
or after the catalog worker indexes it), per-hour counts of moving frames
(`activity_hours`, kept like `frame_hours`), and events (`events`, one row per event id,
which only ever grows: re-processing the same frames writes the same rows).

A `FrameIndex` is safe to share between threads: every call takes its own pooled connection.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from sensr.activity import Event, EventRecord, Transition
from sensr.database import open_migrated, writer

VERSION_TABLE = "alembic_version_index"
HOUR_US = 3_600_000_000
_MIGRATION_LOCK_KEY = 0x5E75_1DE8  # PostgreSQL advisory lock held while migrating
_CHUNK = 500  # frames per DELETE ... IN (...) statement

metadata = sa.MetaData()
FRAMES = sa.Table(
    "frames", metadata,
    sa.Column("frame_id", sa.String(), primary_key=True),
    sa.Column("camera", sa.String(), nullable=False),
    sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("width", sa.Integer(), nullable=False),
    sa.Column("height", sa.Integer(), nullable=False),
    sa.Column("source", sa.String(), nullable=False),
    sa.Column("object_key", sa.String(), nullable=False),
    sa.Column("thumbnail_key", sa.String(), nullable=False),
    sa.Column("filename", sa.String(), nullable=True),
    sa.Column("camera_time_us", sa.BigInteger(), nullable=True),
    sa.Column("segment_key", sa.String(), nullable=True),
    sa.Column("segment_offset", sa.BigInteger(), nullable=True),
    sa.Column("thumbnail_offset", sa.BigInteger(), nullable=True),
    sa.Column("thumbnail_size", sa.BigInteger(), nullable=True),
    sa.Column("segment_thumbnails", sa.BigInteger(), nullable=True),
    sa.Column("kafka_partition", sa.Integer(), nullable=True),
    sa.Column("kafka_offset", sa.BigInteger(), nullable=True),
    sa.Column("thumbnail_partition", sa.Integer(), nullable=True),
    sa.Column("thumbnail_kafka_offset", sa.BigInteger(), nullable=True),
    sa.Index("frames_camera_time", "camera", "timestamp_us", "frame_id"),
    sa.Index("frames_segment", "segment_key"),
)
SEGMENTS = sa.Table(
    "segments", metadata,
    sa.Column("segment_key", sa.String(), primary_key=True),
    sa.Column("camera", sa.String(), nullable=False),
    sa.Column("first_us", sa.BigInteger(), nullable=False),
    sa.Column("last_us", sa.BigInteger(), nullable=False),
    sa.Column("frames", sa.Integer(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("sealed", sa.Boolean(), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Index("segments_camera_last", "camera", "last_us"),
    sa.Index("segments_unsealed", "sealed", "created_us"),
)
HOURS = sa.Table(
    "frame_hours", metadata,
    sa.Column("camera", sa.String(), primary_key=True),
    sa.Column("hour_us", sa.BigInteger(), primary_key=True),
    sa.Column("frames", sa.BigInteger(), nullable=False),
)
CONTENTS = sa.Table(
    "frame_contents", metadata,
    sa.Column("camera", sa.String(), primary_key=True),
    sa.Column("digest", sa.LargeBinary(), primary_key=True),
    sa.Column("frame_id", sa.String(), nullable=False),
    sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
    sa.Index("frame_contents_frame", "frame_id"),
)
TOTALS = sa.Table(
    "frame_totals", metadata,
    sa.Column("camera", sa.String(), primary_key=True),
    sa.Column("frames", sa.BigInteger(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
)
SCORES = sa.Table(
    "frame_scores", metadata,
    sa.Column("frame_id", sa.String(), primary_key=True),
    sa.Column("camera", sa.String(), nullable=False),
    sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
    sa.Column("score", sa.Float(), nullable=False),
    sa.Column("moving", sa.Boolean(), nullable=False),
    sa.Column("scene_change", sa.Boolean(), nullable=False),
    sa.Index("frame_scores_camera_time", "camera", "timestamp_us"),
)
ACTIVITY_HOURS = sa.Table(
    "activity_hours", metadata,
    sa.Column("camera", sa.String(), primary_key=True),
    sa.Column("hour_us", sa.BigInteger(), primary_key=True),
    sa.Column("moving_frames", sa.BigInteger(), nullable=False),
)
EVENTS = sa.Table(
    "events", metadata,
    sa.Column("event_id", sa.String(), primary_key=True),
    sa.Column("camera", sa.String(), nullable=False),
    sa.Column("start_us", sa.BigInteger(), nullable=False),
    sa.Column("end_us", sa.BigInteger(), nullable=False),
    sa.Column("frame_count", sa.Integer(), nullable=False),
    sa.Column("moving_frames", sa.Integer(), nullable=False),
    sa.Column("peak_score", sa.Float(), nullable=False),
    sa.Column("key_frame_id", sa.String(), nullable=False),
    sa.Column("ended", sa.Boolean(), nullable=False),
    sa.Index("events_camera_start", "camera", "start_us", "event_id"),
)
_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One stored frame as the index knows it."""

    frame_id: str
    camera: str
    timestamp_us: int
    size: int
    width: int
    height: int
    source: str
    object_key: str
    thumbnail_key: str
    filename: str | None = None
    camera_time_us: int | None = None
    """The camera's own clock for this frame (from its file name), when it gave one."""
    segment_key: str | None = None
    """Where the bytes are, in one of three layouts (read through `sensr.frame_reader`):
    a sealed segment (`segment_key`: the original at `segment_offset`, `size` bytes; the
    thumbnail at `thumbnail_offset`, `thumbnail_size` bytes, inside the segment's leading
    thumbnail block of `segment_thumbnails` bytes); not sealed yet (`kafka_partition` and
    `kafka_offset` in `sensr.frames`, the thumbnail at `thumbnail_partition` and
    `thumbnail_kafka_offset` in `sensr.thumbnails`); or one object each (`object_key`,
    `thumbnail_key`: frames stored before segments)."""
    segment_offset: int | None = None
    thumbnail_offset: int | None = None
    thumbnail_size: int | None = None
    segment_thumbnails: int | None = None
    kafka_partition: int | None = None
    kafka_offset: int | None = None
    thumbnail_partition: int | None = None
    thumbnail_kafka_offset: int | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a frame lies in its sealed segment."""

    frame_id: str
    offset: int
    thumbnail_offset: int
    thumbnail_size: int


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment object of one camera's frames, as the index knows it."""

    segment_key: str
    camera: str
    first_us: int
    last_us: int
    frames: int
    bytes: int
    sealed: bool
    created_us: int


@dataclass(frozen=True, slots=True)
class ContentClaim:
    """A frame's claim to hold its camera's copy of some content (`digest` of its bytes)."""

    camera: str
    digest: bytes
    frame_id: str
    timestamp_us: int


@dataclass(frozen=True, slots=True)
class FrameScore:
    """A frame's motion score (0-100) as the activity worker found it."""

    frame_id: str
    camera: str
    timestamp_us: int
    score: float
    moving: bool
    scene_change: bool = False


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored: `ended` once its end was recorded."""

    event: Event
    ended: bool


@dataclass(frozen=True)
class EventPage:
    events: list[StoredEvent]
    next_cursor: str | None
    """Opaque; pass it back with the same camera, range and direction. None: no more events."""


@dataclass(frozen=True)
class FramePage:
    frames: list[FrameRecord]
    next_cursor: str | None
    """Opaque; pass it back with the same camera, range and direction. None: no more frames."""


class InvalidCursor(ValueError):
    """A cursor that `FrameIndex.page` did not hand out (a client's typo or tampering)."""


def hour_start(timestamp_us: int) -> int:
    """The start of the UTC hour holding `timestamp_us`, in microseconds."""
    return timestamp_us - timestamp_us % HOUR_US


class FrameIndex:
    """The frame index on one database; see the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._insert = _INSERT[engine.dialect.name]

    @classmethod
    def open(cls, url: str) -> "FrameIndex":
        """Connect to `sqlite:///path` or `postgresql://...` and migrate the schema to the
        latest revision (safe when several processes do it at once). Raises SQLAlchemy's
        `OperationalError` when the database cannot be reached."""
        return cls(open_migrated(url, Path(__file__).with_name("index_migrations"), _MIGRATION_LOCK_KEY))

    def close(self) -> None:
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        """The engine of the index database, for the tables other modules keep in it
        (`sensr.deliveries`), migrated in the same chain."""
        return self._engine

    # -- writes ------------------------------------------------------------------------

    def add(self, frames: Sequence[FrameRecord]) -> int:
        """Insert frames in one transaction; frames whose id is already indexed are ignored.
        Returns how many rows were newly inserted."""
        unique = sorted({frame.frame_id: frame for frame in frames}.values(), key=lambda f: f.frame_id)
        if not unique:
            return 0
        insert = (self._insert(FRAMES).on_conflict_do_nothing(index_elements=[FRAMES.c.frame_id])
                  .returning(FRAMES.c.frame_id))
        with self._writer.begin() as conn:
            inserted = set(conn.execute(insert, [asdict(frame) for frame in unique]).scalars())
            new = [frame for frame in unique if frame.frame_id in inserted]
            self._count(conn, ((f.camera, f.timestamp_us, f.size) for f in new), sign=1)
        return len(new)

    def remove(self, frames: Sequence[FrameRecord]) -> int:
        """Delete frames (by id), their content claims and their scores in one transaction,
        keeping counts and totals right. Returns how many frame rows were really deleted."""
        ids = sorted({frame.frame_id for frame in frames})
        removed: list[sa.Row[Any]] = []
        moving: list[tuple[str, int]] = []
        with self._writer.begin() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start:start + _CHUNK]
                delete = (sa.delete(FRAMES).where(FRAMES.c.frame_id.in_(chunk))
                          .returning(FRAMES.c.camera, FRAMES.c.timestamp_us, FRAMES.c.size))
                removed.extend(conn.execute(delete))
                conn.execute(sa.delete(CONTENTS).where(CONTENTS.c.frame_id.in_(chunk)))
                unscored = (sa.delete(SCORES).where(SCORES.c.frame_id.in_(chunk))
                            .returning(SCORES.c.camera, SCORES.c.timestamp_us, SCORES.c.moving))
                moving.extend((r.camera, r.timestamp_us) for r in conn.execute(unscored) if r.moving)
            self._count(conn, ((r.camera, r.timestamp_us, r.size) for r in removed), sign=-1)
            self._count_moving(conn, moving, sign=-1)
        return len(removed)

    def claim_contents(self, claims: Sequence[ContentClaim], window_us: int) -> dict[str, str]:
        """Take each claim unless another frame of its camera holds the same content within
        `window_us` of the claim's timestamp, in one transaction; returns, per claimed frame
        id, the id of the frame that holds its content now (its own when taken).

        A claim is taken when no frame holds the content yet, when its own frame holds it
        already (a re-delivery), or when the holder is `window_us` or more away in time
        (then it becomes the holder: the window counts from the last copy kept). Claims of
        one content are settled in the order given, as if one after another.

        Why a unique key and an upsert rather than a query: the decision and the claim are
        one atomic statement per row, so two workers settling the same content at once
        (during a rebalance) cannot both take it, and a claim taken before its frame is
        indexed already counts for the next batch."""
        rounds: list[list[ContentClaim]] = []
        seen: Counter[tuple[str, bytes]] = Counter()
        for claim in claims:  # round k holds the k-th claim of each content: one row per key per statement
            key = (claim.camera, claim.digest)
            if seen[key] == len(rounds):
                rounds.append([])
            rounds[seen[key]].append(claim)
            seen[key] += 1
        upsert = self._insert(CONTENTS)
        held = CONTENTS.c.timestamp_us
        upsert = upsert.on_conflict_do_update(
            index_elements=[CONTENTS.c.camera, CONTENTS.c.digest],
            set_={"frame_id": upsert.excluded.frame_id, "timestamp_us": upsert.excluded.timestamp_us},
            where=sa.or_(CONTENTS.c.frame_id == upsert.excluded.frame_id,
                         upsert.excluded.timestamp_us >= held + window_us,
                         upsert.excluded.timestamp_us <= held - window_us),
        ).returning(CONTENTS.c.frame_id)
        holders: dict[str, str] = {}
        with self._writer.begin() as conn:
            for batch in rounds:
                batch.sort(key=lambda c: (c.camera, c.digest))  # rows locked in key order: no deadlocks
                taken = set(conn.execute(upsert, [asdict(claim) for claim in batch]).scalars())
                holders.update((claim.frame_id, claim.frame_id) for claim in batch if claim.frame_id in taken)
                refused = [claim for claim in batch if claim.frame_id not in taken]
                if refused:
                    holding = self._holders(conn, refused)
                    holders.update((claim.frame_id, holding[claim.camera, claim.digest]) for claim in refused)
        return holders

    def release_contents(self, frame_ids: Iterable[str]) -> None:
        """Give up the content claims of frames that will not be indexed after all."""
        ids = sorted(set(frame_ids))
        with self._writer.begin() as conn:
            for start in range(0, len(ids), _CHUNK):
                conn.execute(sa.delete(CONTENTS).where(CONTENTS.c.frame_id.in_(ids[start:start + _CHUNK])))

    @staticmethod
    def _holders(conn: Connection, claims: Sequence[ContentClaim]) -> dict[tuple[str, bytes], str]:
        query = (sa.select(CONTENTS.c.camera, CONTENTS.c.digest, CONTENTS.c.frame_id)
                 .where(CONTENTS.c.camera.in_(sorted({c.camera for c in claims})),
                        CONTENTS.c.digest.in_(sorted({c.digest for c in claims}))))
        return {(row.camera, bytes(row.digest)): row.frame_id for row in conn.execute(query)}

    def _count(self, conn: Connection, frames: Iterable[tuple[str, int, int]], sign: int) -> None:
        """Add (sign=1) or subtract (sign=-1) frames to the per-hour and per-camera tables.
        Rows are touched in key order so concurrent writers cannot deadlock."""
        hours: Counter[tuple[str, int]] = Counter()
        cameras: dict[str, list[int]] = {}
        for camera, timestamp_us, size in frames:
            hours[camera, hour_start(timestamp_us)] += 1
            total = cameras.setdefault(camera, [0, 0])
            total[0] += 1
            total[1] += size
        if not cameras:
            return
        hour_upsert = self._insert(HOURS)
        hour_upsert = hour_upsert.on_conflict_do_update(
            index_elements=[HOURS.c.camera, HOURS.c.hour_us],
            set_={"frames": HOURS.c.frames + hour_upsert.excluded.frames})
        conn.execute(hour_upsert, [{"camera": camera, "hour_us": hour, "frames": sign * n}
                                   for (camera, hour), n in sorted(hours.items())])
        total_upsert = self._insert(TOTALS)
        total_upsert = total_upsert.on_conflict_do_update(
            index_elements=[TOTALS.c.camera],
            set_={"frames": TOTALS.c.frames + total_upsert.excluded.frames,
                  "bytes": TOTALS.c.bytes + total_upsert.excluded.bytes})
        conn.execute(total_upsert, [{"camera": camera, "frames": sign * n, "bytes": sign * size}
                                    for camera, (n, size) in sorted(cameras.items())])
        if sign < 0:
            conn.execute(sa.delete(HOURS).where(HOURS.c.camera.in_(sorted(cameras)), HOURS.c.frames <= 0))

    def add_scores(self, scores: Sequence[FrameScore]) -> int:
        """Record frames' motion scores in one transaction; a frame scored already keeps its
        first score (re-processing gives the same one). Returns how many were new."""
        unique = sorted({score.frame_id: score for score in scores}.values(), key=lambda s: s.frame_id)
        if not unique:
            return 0
        insert = (self._insert(SCORES).on_conflict_do_nothing(index_elements=[SCORES.c.frame_id])
                  .returning(SCORES.c.frame_id))
        with self._writer.begin() as conn:
            inserted = set(conn.execute(insert, [asdict(score) for score in unique]).scalars())
            self._count_moving(conn, ((s.camera, s.timestamp_us) for s in unique
                                      if s.moving and s.frame_id in inserted), sign=1)
        return len(inserted)

    def save_events(self, records: Sequence[EventRecord]) -> None:
        """Record events' starts, updates and ends in one transaction. A row only grows: it
        takes a record's figures when the record has at least as many frames as the row
        (so a late or repeated record changes nothing), and an end, once recorded, stays."""
        latest: dict[str, tuple[Event, bool]] = {}
        for record in records:
            ended = record.transition is Transition.END
            held = latest.get(record.event.event_id)
            if held is None or record.event.frame_count >= held[0].frame_count:
                latest[record.event.event_id] = (record.event, ended or (held is not None and held[1]))
        if not latest:
            return
        upsert = self._insert(EVENTS)
        grows = upsert.excluded.frame_count >= EVENTS.c.frame_count
        upsert = upsert.on_conflict_do_update(
            index_elements=[EVENTS.c.event_id],
            set_={**{name: sa.case((grows, upsert.excluded[name]), else_=EVENTS.c[name])
                     for name in ("end_us", "frame_count", "moving_frames", "peak_score", "key_frame_id")},
                  "ended": sa.or_(EVENTS.c.ended, upsert.excluded.ended)})
        rows = [{**asdict(event), "ended": ended} for event, ended in latest.values()]
        with self._writer.begin() as conn:
            conn.execute(upsert, sorted(rows, key=lambda row: row["event_id"]))

    def remove_camera_activity(self, camera: str) -> None:
        """Forget a deleted camera's scores, hourly activity and events."""
        with self._writer.begin() as conn:
            for table in (SCORES, ACTIVITY_HOURS, EVENTS):
                conn.execute(sa.delete(table).where(table.c.camera == camera))

    # -- segments ----------------------------------------------------------------------

    def begin_segment(self, segment: Segment) -> None:
        """Record a segment about to be written (unsealed), before its object is: an object
        no frame points to yet is then always known, and `stale_segments` finds it if the
        writer dies before `seal`."""
        upsert = self._insert(SEGMENTS).on_conflict_do_nothing(index_elements=[SEGMENTS.c.segment_key])
        with self._writer.begin() as conn:
            conn.execute(upsert, [asdict(segment)])

    def seal(self, segment_key: str, thumbnails: int, placements: Sequence[Placement]) -> int:
        """Point the frames at their places in the written segment and mark it sealed, in one
        transaction. Frames deleted meanwhile are skipped. Returns how many rows moved."""
        update = (sa.update(FRAMES).where(FRAMES.c.frame_id == sa.bindparam("fid"))
                  .values(segment_key=segment_key, segment_offset=sa.bindparam("off"),
                          thumbnail_offset=sa.bindparam("toff"), thumbnail_size=sa.bindparam("tsize"),
                          segment_thumbnails=thumbnails, object_key="", thumbnail_key=""))
        rows = [{"fid": p.frame_id, "off": p.offset, "toff": p.thumbnail_offset, "tsize": p.thumbnail_size}
                for p in sorted(placements, key=lambda p: p.frame_id)]
        with self._writer.begin() as conn:
            moved = conn.execute(update, rows).rowcount if rows else 0
            conn.execute(sa.update(SEGMENTS).where(SEGMENTS.c.segment_key == segment_key).values(sealed=True))
        return int(moved)

    def sealed_frames(self, frame_ids: Iterable[str]) -> set[str]:
        """Those of `frame_ids` whose bytes are in a sealed segment already."""
        ids = sorted(set(frame_ids))
        found: set[str] = set()
        with self._engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                query = sa.select(FRAMES.c.frame_id).where(FRAMES.c.frame_id.in_(ids[start:start + _CHUNK]),
                                                           FRAMES.c.segment_key.is_not(None))
                found.update(conn.execute(query).scalars())
        return found

    def existing(self, frame_ids: Iterable[str]) -> set[str]:
        """Those of `frame_ids` that are indexed."""
        ids = sorted(set(frame_ids))
        found: set[str] = set()
        with self._engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                query = sa.select(FRAMES.c.frame_id).where(FRAMES.c.frame_id.in_(ids[start:start + _CHUNK]))
                found.update(conn.execute(query).scalars())
        return found

    def empty_segments(self, created_before_us: int, limit: int) -> list[Segment]:
        """Sealed segments created before `created_before_us` that no frame points to."""
        pointed = sa.select(FRAMES.c.frame_id).where(FRAMES.c.segment_key == SEGMENTS.c.segment_key).exists()
        query = (sa.select(SEGMENTS).where(SEGMENTS.c.sealed, SEGMENTS.c.created_us < created_before_us,
                                           sa.not_(pointed))
                 .order_by(SEGMENTS.c.created_us).limit(limit))
        with self._engine.connect() as conn:
            return [Segment(**row._mapping) for row in conn.execute(query)]

    def expired_segments(self, camera: str, before_us: int, limit: int) -> list[Segment]:
        """A camera's segments whose every frame was taken before `before_us`, oldest first."""
        query = (sa.select(SEGMENTS).where(SEGMENTS.c.camera == camera, SEGMENTS.c.last_us < before_us)
                 .order_by(SEGMENTS.c.last_us).limit(limit))
        with self._engine.connect() as conn:
            return [Segment(**row._mapping) for row in conn.execute(query)]

    def stale_segments(self, created_before_us: int, limit: int) -> list[Segment]:
        """Segments begun before `created_before_us` and never sealed: their writer died
        between `begin_segment` and `seal`, so no frame points to them."""
        query = (sa.select(SEGMENTS).where(sa.not_(SEGMENTS.c.sealed), SEGMENTS.c.created_us < created_before_us)
                 .order_by(SEGMENTS.c.created_us).limit(limit))
        with self._engine.connect() as conn:
            return [Segment(**row._mapping) for row in conn.execute(query)]

    def camera_segments(self, camera: str) -> list[Segment]:
        with self._engine.connect() as conn:
            return [Segment(**row._mapping) for row in conn.execute(
                sa.select(SEGMENTS).where(SEGMENTS.c.camera == camera))]

    def segment_frames(self, segment_key: str) -> list[FrameRecord]:
        """The frames a segment holds, in offset order."""
        query = (sa.select(FRAMES).where(FRAMES.c.segment_key == segment_key).order_by(FRAMES.c.segment_offset))
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def remove_segments(self, segment_keys: Sequence[str]) -> int:
        """Forget segments (their objects deleted first) with every frame row still in them;
        returns how many frame rows went."""
        removed = 0
        for key in segment_keys:
            removed += self.remove(self.segment_frames(key))
        with self._writer.begin() as conn:
            conn.execute(sa.delete(SEGMENTS).where(SEGMENTS.c.segment_key.in_(sorted(segment_keys))))
        return removed

    def _count_moving(self, conn: Connection, frames: Iterable[tuple[str, int]], sign: int) -> None:
        """Add or subtract moving frames to the per-hour activity table, in key order."""
        hours = Counter((camera, hour_start(timestamp_us)) for camera, timestamp_us in frames)
        if not hours:
            return
        upsert = self._insert(ACTIVITY_HOURS)
        upsert = upsert.on_conflict_do_update(
            index_elements=[ACTIVITY_HOURS.c.camera, ACTIVITY_HOURS.c.hour_us],
            set_={"moving_frames": ACTIVITY_HOURS.c.moving_frames + upsert.excluded.moving_frames})
        conn.execute(upsert, [{"camera": camera, "hour_us": hour, "moving_frames": sign * n}
                              for (camera, hour), n in sorted(hours.items())])
        if sign < 0:
            conn.execute(sa.delete(ACTIVITY_HOURS).where(
                ACTIVITY_HOURS.c.camera.in_(sorted({camera for camera, _ in hours})),
                ACTIVITY_HOURS.c.moving_frames <= 0))

    # -- queries -----------------------------------------------------------------------

    def page(self, camera: str, since_us: int | None = None, until_us: int | None = None,
             limit: int = 100, cursor: str | None = None, descending: bool = False,
             min_score: float | None = None, moving_only: bool = False) -> FramePage:
        """A camera's frames in time order (`since_us` inclusive, `until_us` exclusive), at
        most `limit`, continuing after `cursor`; with `min_score` only frames scored at
        least that, with `moving_only` only frames found moving. Raises InvalidCursor for a
        foreign cursor."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        ts, fid = FRAMES.c.timestamp_us, FRAMES.c.frame_id
        query = sa.select(FRAMES).where(FRAMES.c.camera == camera)
        if min_score is not None or moving_only:
            query = query.join(SCORES, SCORES.c.frame_id == FRAMES.c.frame_id)
            if min_score is not None:
                query = query.where(SCORES.c.score >= min_score)
            if moving_only:
                query = query.where(SCORES.c.moving)
        if since_us is not None:
            query = query.where(ts >= since_us)
        if until_us is not None:
            query = query.where(ts < until_us)
        rows = self._keyset(query, ts, fid, limit, cursor, descending)
        frames = [_record(row) for row in rows[:limit]]
        more = len(rows) > limit
        return FramePage(frames, _encode_cursor(frames[-1].timestamp_us, frames[-1].frame_id) if more else None)

    def events_page(self, camera: str, since_us: int | None = None, until_us: int | None = None,
                    limit: int = 50, cursor: str | None = None, descending: bool = True) -> EventPage:
        """A camera's events that start in [`since_us`, `until_us`), newest first unless
        `descending` is False, at most `limit`, continuing after `cursor`."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        start, eid = EVENTS.c.start_us, EVENTS.c.event_id
        query = sa.select(EVENTS).where(EVENTS.c.camera == camera)
        if since_us is not None:
            query = query.where(start >= since_us)
        if until_us is not None:
            query = query.where(start < until_us)
        rows = self._keyset(query, start, eid, limit, cursor, descending)
        events = [_stored_event(row) for row in rows[:limit]]
        more = len(rows) > limit
        last = events[-1].event if events else None
        return EventPage(events, _encode_cursor(last.start_us, last.event_id) if more and last else None)

    def _keyset(self, query: sa.Select[Any], ts: sa.ColumnElement[int], key: sa.ColumnElement[str],
                limit: int, cursor: str | None, descending: bool) -> Sequence[sa.Row[Any]]:
        """One keyset page of `query` in (ts, key) order: `limit + 1` rows after `cursor`."""
        if cursor is not None:
            after_ts, after_id = _decode_cursor(cursor)
            # Expanded row-value comparison: keeps a plain range on the index in both databases.
            if descending:
                query = query.where(ts <= after_ts, sa.or_(ts < after_ts, key < after_id))
            else:
                query = query.where(ts >= after_ts, sa.or_(ts > after_ts, key > after_id))
        order = (ts.desc(), key.desc()) if descending else (ts.asc(), key.asc())
        with self._engine.connect() as conn:
            return conn.execute(query.order_by(*order).limit(limit + 1)).all()

    def get_event(self, camera: str, event_id: str) -> StoredEvent | None:
        query = sa.select(EVENTS).where(EVENTS.c.event_id == event_id, EVENTS.c.camera == camera)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _stored_event(row)

    def open_events(self, camera: str) -> list[Event]:
        """A camera's events whose end is not recorded yet, oldest first (what a worker that
        takes the camera over resumes)."""
        query = (sa.select(EVENTS).where(EVENTS.c.camera == camera, sa.not_(EVENTS.c.ended))
                 .order_by(EVENTS.c.start_us, EVENTS.c.event_id))
        with self._engine.connect() as conn:
            return [_stored_event(row).event for row in conn.execute(query)]

    def scores(self, camera: str, frame_ids: Iterable[str]) -> dict[str, FrameScore]:
        """The scores of those of `frame_ids` that are scored, by frame id."""
        ids = sorted(set(frame_ids))
        found: dict[str, FrameScore] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                query = sa.select(SCORES).where(SCORES.c.camera == camera,
                                                SCORES.c.frame_id.in_(ids[start:start + _CHUNK]))
                found.update((row.frame_id, FrameScore(**row._mapping)) for row in conn.execute(query))
        return found

    def latest_score(self, camera: str) -> FrameScore | None:
        """The camera's most recent scored frame."""
        query = (sa.select(SCORES).where(SCORES.c.camera == camera)
                 .order_by(SCORES.c.timestamp_us.desc(), SCORES.c.frame_id.desc()).limit(1))
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else FrameScore(**row._mapping)

    def scores_since(self, camera: str, since_us: int) -> list[FrameScore]:
        """The camera's scores from `since_us` on, in (timestamp, frame id) order: what a
        worker that takes the camera over replays to resume its open event."""
        query = (sa.select(SCORES).where(SCORES.c.camera == camera, SCORES.c.timestamp_us >= since_us)
                 .order_by(SCORES.c.timestamp_us, SCORES.c.frame_id))
        with self._engine.connect() as conn:
            return [FrameScore(**row._mapping) for row in conn.execute(query)]

    def activity_counts(self, camera: str, since_us: int, until_us: int) -> list[tuple[int, int, int]]:
        """(hour start in µs, moving frames, events started) for the hours starting in
        [hour of since_us, until_us) that hold either, ascending."""
        first = hour_start(since_us)
        moving = (sa.select(ACTIVITY_HOURS.c.hour_us, ACTIVITY_HOURS.c.moving_frames)
                  .where(ACTIVITY_HOURS.c.camera == camera, ACTIVITY_HOURS.c.hour_us >= first,
                         ACTIVITY_HOURS.c.hour_us < until_us, ACTIVITY_HOURS.c.moving_frames > 0))
        hour = (EVENTS.c.start_us - EVENTS.c.start_us % HOUR_US).label("hour_us")
        started = (sa.select(hour, sa.func.count().label("events"))
                   .where(EVENTS.c.camera == camera, EVENTS.c.start_us >= first, EVENTS.c.start_us < until_us)
                   .group_by(hour))
        counts: dict[int, list[int]] = {}
        with self._engine.connect() as conn:
            for hour_us, frames in conn.execute(moving):
                counts.setdefault(int(hour_us), [0, 0])[0] = int(frames)
            for hour_us, events in conn.execute(started):
                counts.setdefault(int(hour_us), [0, 0])[1] = int(events)
        return [(hour_us, frames, events) for hour_us, (frames, events) in sorted(counts.items())]

    def unmoving_expired(self, camera: str, before_us: int, limit: int) -> list[FrameRecord]:
        """A camera's oldest frames taken before `before_us` that were scored and lie within
        no event (start to end, ends included), at most `limit`, oldest first: what "keep
        what matters" removes. A frame not scored yet is kept (the activity worker may be
        behind)."""
        within_event = (sa.select(EVENTS.c.event_id)
                        .where(EVENTS.c.camera == camera, EVENTS.c.start_us <= FRAMES.c.timestamp_us,
                               EVENTS.c.end_us >= FRAMES.c.timestamp_us)
                        .exists())
        query = (sa.select(FRAMES).join(SCORES, SCORES.c.frame_id == FRAMES.c.frame_id)
                 .where(FRAMES.c.camera == camera, FRAMES.c.timestamp_us < before_us, sa.not_(within_event))
                 .order_by(FRAMES.c.timestamp_us, FRAMES.c.frame_id).limit(limit))
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def latest(self, camera: str) -> FrameRecord | None:
        query = (sa.select(FRAMES).where(FRAMES.c.camera == camera)
                 .order_by(FRAMES.c.timestamp_us.desc(), FRAMES.c.frame_id.desc()).limit(1))
        return self._one(query)

    def get(self, camera: str, frame_id: str) -> FrameRecord | None:
        return self._one(sa.select(FRAMES).where(FRAMES.c.frame_id == frame_id, FRAMES.c.camera == camera))

    def hourly_counts(self, camera: str, since_us: int, until_us: int) -> list[tuple[int, int]]:
        """(hour start in µs, frames) for the hours starting in [hour of since_us, until_us)
        that hold frames, ascending."""
        query = (sa.select(HOURS.c.hour_us, HOURS.c.frames)
                 .where(HOURS.c.camera == camera, HOURS.c.hour_us >= hour_start(since_us),
                        HOURS.c.hour_us < until_us, HOURS.c.frames > 0)
                 .order_by(HOURS.c.hour_us))
        with self._engine.connect() as conn:
            return [(int(hour), int(n)) for hour, n in conn.execute(query)]

    def first_in_slots(self, camera: str, bounds: Sequence[int]) -> list[FrameRecord]:
        """The first frame of each slot [bounds[i], bounds[i+1]) that holds one, in time
        order: a sample of a long range by timestamp that reads one row per slot (one
        index seek each), however many frames the range holds."""
        ts = FRAMES.c.timestamp_us
        found = []
        with self._engine.connect() as conn:
            for low, high in zip(bounds, bounds[1:]):
                row = conn.execute(sa.select(FRAMES).where(FRAMES.c.camera == camera, ts >= low, ts < high)
                                   .order_by(ts, FRAMES.c.frame_id).limit(1)).first()
                if row is not None:
                    found.append(_record(row))
        return found

    def totals(self, camera: str) -> tuple[int, int]:
        """(frames, bytes) indexed for a camera; (0, 0) for an unknown one."""
        query = sa.select(TOTALS.c.frames, TOTALS.c.bytes).where(TOTALS.c.camera == camera)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return (0, 0) if row is None else (int(row.frames), int(row.bytes))

    def expired(self, camera: str, before_us: int, limit: int) -> list[FrameRecord]:
        """A camera's oldest frames taken before `before_us`, at most `limit`, oldest first."""
        query = (sa.select(FRAMES).where(FRAMES.c.camera == camera, FRAMES.c.timestamp_us < before_us)
                 .order_by(FRAMES.c.timestamp_us, FRAMES.c.frame_id).limit(limit))
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def cameras(self) -> list[str]:
        """Cameras that have frames in the index, sorted."""
        query = sa.select(TOTALS.c.camera).where(TOTALS.c.frames > 0).order_by(TOTALS.c.camera)
        with self._engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def count(self, camera: str, since_us: int, until_us: int) -> int:
        """How many frames the camera has in [since_us, until_us) (an index range scan:
        meant for short spans, such as the last hour or an hour up to a frame)."""
        query = (sa.select(sa.func.count()).select_from(FRAMES)
                 .where(FRAMES.c.camera == camera, FRAMES.c.timestamp_us >= since_us,
                        FRAMES.c.timestamp_us < until_us))
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def slice(self, camera: str, since_us: int, until_us: int, offset: int, limit: int) -> list[FrameRecord]:
        """Frames `offset` to `offset + limit` of [since_us, until_us) in time order: numbered
        pages of one hour, which a viewer can jump between in both directions (keyset
        cursors only go forward)."""
        query = (sa.select(FRAMES)
                 .where(FRAMES.c.camera == camera, FRAMES.c.timestamp_us >= since_us,
                        FRAMES.c.timestamp_us < until_us)
                 .order_by(FRAMES.c.timestamp_us, FRAMES.c.frame_id).offset(offset).limit(limit))
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def buckets(self, camera: str, since_us: int, until_us: int, step_us: int) -> list[tuple[int, int, str, int]]:
        """The frame density of [since_us, until_us) in buckets of `step_us`: for each bucket
        holding frames, (bucket number from since_us, frames, id and time of its first
        frame), ascending. What a timeline of the span needs, not every frame: a day of one
        frame a second is 1,440 rows at one-minute buckets."""
        bucket = ((FRAMES.c.timestamp_us - since_us) // step_us).label("bucket")
        first = sa.func.min(FRAMES.c.timestamp_us).label("first_us")
        grouped = (sa.select(bucket, sa.func.count().label("frames"), first)
                   .where(FRAMES.c.camera == camera, FRAMES.c.timestamp_us >= since_us,
                          FRAMES.c.timestamp_us < until_us)
                   .group_by(bucket).subquery())
        first_id = (sa.select(sa.func.min(FRAMES.c.frame_id))
                    .where(FRAMES.c.camera == camera, FRAMES.c.timestamp_us == grouped.c.first_us)
                    .scalar_subquery())
        query = sa.select(grouped.c.bucket, grouped.c.frames, first_id, grouped.c.first_us).order_by(grouped.c.bucket)
        with self._engine.connect() as conn:
            return [(int(b), int(n), str(fid), int(ts)) for b, n, fid, ts in conn.execute(query)]

    def frame_times(self, camera: str, frame_ids: Iterable[str]) -> dict[str, int]:
        """The timestamps of those of `frame_ids` the camera still has, by frame id (one
        query: what a timeline needs to place events' key frames)."""
        ids = sorted(set(frame_ids))
        if not ids:
            return {}
        query = sa.select(FRAMES.c.frame_id, FRAMES.c.timestamp_us).where(FRAMES.c.camera == camera,
                                                                         FRAMES.c.frame_id.in_(ids))
        with self._engine.connect() as conn:
            return {str(fid): int(ts) for fid, ts in conn.execute(query)}

    def moving_buckets(self, camera: str, since_us: int, until_us: int, step_us: int) -> list[tuple[int, int]]:
        """The motion of [since_us, until_us) in buckets of `step_us`, as `buckets` gives
        the frame density: for each bucket holding frames found moving, (bucket number from
        since_us, moving frames), ascending."""
        bucket = ((SCORES.c.timestamp_us - since_us) // step_us).label("bucket")
        query = (sa.select(bucket, sa.func.count())
                 .where(SCORES.c.camera == camera, SCORES.c.timestamp_us >= since_us,
                        SCORES.c.timestamp_us < until_us, SCORES.c.moving)
                 .group_by(bucket).order_by(bucket))
        with self._engine.connect() as conn:
            return [(int(b), int(n)) for b, n in conn.execute(query)]

    def frame_at(self, camera: str, at_us: int) -> FrameRecord | None:
        """The frame a timeline shows at `at_us`: the last one taken at or before it, or,
        when there is none, the first after it."""
        before = (sa.select(FRAMES).where(FRAMES.c.camera == camera, FRAMES.c.timestamp_us <= at_us)
                  .order_by(FRAMES.c.timestamp_us.desc(), FRAMES.c.frame_id.desc()).limit(1))
        after = (sa.select(FRAMES).where(FRAMES.c.camera == camera, FRAMES.c.timestamp_us > at_us)
                 .order_by(FRAMES.c.timestamp_us, FRAMES.c.frame_id).limit(1))
        return self._one(before) or self._one(after)

    def _one(self, query: sa.Select[Any]) -> FrameRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _record(row)


def _record(row: sa.Row[Any]) -> FrameRecord:
    return FrameRecord(**row._mapping)


def _stored_event(row: sa.Row[Any]) -> StoredEvent:
    fields = dict(row._mapping)
    ended = bool(fields.pop("ended"))
    return StoredEvent(Event(**fields), ended)


def _encode_cursor(timestamp_us: int, key: str) -> str:
    return base64.urlsafe_b64encode(f"{timestamp_us}.{key}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        timestamp, frame_id = raw.split(".", 1)
        return int(timestamp), frame_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor(f"invalid cursor {cursor!r}") from None
