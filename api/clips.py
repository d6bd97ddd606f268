"""Clips and time-lapses: the api's side of the jobs the clip workers render.

A clip is a row of `api_clips` and a job on `sensr.clip-jobs`: `create` inserts the row
(`queued`) and publishes the job inside one transaction, which commits only once Kafka
acknowledged it (as camera logins are published, `api.cameras`), so no row waits for a
job that was never sent. Workers report on `sensr.clip-progress`; `apply` writes each
report to the row (`api.clip_progress` consumes them), never moving a clip out of a
final state. The MP4 is stored under `<camera username>/clips/<clip id>.mp4`, so the
catalog worker's purge of a deleted camera's objects removes its clips too.

Who may make and watch clips: the owner, and whoever holds a share link of the camera
whose owner allowed clips on it (`api.shares.ShareService.clips_share`).

Daily time-lapses: for cameras with `daily_timelapse` on, `make_daily` creates, once the
day has ended in the camera's time zone, a time-lapse of that day (one per camera and
day: a unique key, so api replicas racing to create it make one).

Methods block (database, Kafka, object store): call them from a worker thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from kafka.errors import KafkaError
from minio import Minio
from minio.error import S3Error
from sqlalchemy.exc import IntegrityError

from api.cameras import Camera
from api.db import CAMERAS, CLIPS, Database, new_id
from api.errors import InvalidInput, NotFound, Unavailable
from sensr.broker import CLIP_CANCELS, CLIP_JOBS
from sensr.clips import FINAL_STATES, ClipJob, ClipProgress
from sensr.frames import now_us
from sensr.index import FrameIndex
from sensr.logs import get_logger
from sensr.settings import ClipSettings

log = get_logger(__name__)
DAY_US = 86_400_000_000
MAX_SIDE = 3840
DAILY_FRAMES = 1800
"""A daily time-lapse: a minute at 30 fps, sampled from the day's frames."""
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Clip:
    id: str
    camera_id: str
    kind: str
    """`clip` (asked for) or `daily` (the daily time-lapse of `day`)."""
    day: str | None
    created_by: str | None
    share_id: str | None
    since_us: int
    until_us: int
    event_id: str | None
    speed: str
    factor: float
    fps: float
    max_width: int
    max_height: int
    timestamp: bool
    time_zone: str
    object_key: str
    state: str
    frames_done: int
    frames_total: int
    eta_seconds: float | None
    size: int | None
    duration: float | None
    reason: str | None
    created_us: int
    updated_us: int

    @property
    def percent(self) -> float:
        if self.state == "ready":
            return 100.0
        return round(100.0 * self.frames_done / self.frames_total, 1) if self.frames_total else 0.0


@dataclass(frozen=True, slots=True)
class ClipOptions:
    """What a caller may choose (validated by `ClipService.create`)."""

    speed: str = "timelapse"
    factor: float = 10.0
    fps: float = 30.0
    max_width: int = 1280
    max_height: int = 720
    timestamp: bool = False


class JobPublisher:
    """Publishes jobs and cancels, waiting for Kafka's acknowledgement."""

    def __init__(self, producer: Any, timeout: float) -> None:
        self._producer, self._timeout = producer, timeout

    def job(self, job: ClipJob) -> None:
        self._producer.send(CLIP_JOBS, key=job.job_id.encode(), value=job.value()).get(timeout=self._timeout)

    def cancel(self, job_id: str) -> None:
        self._producer.send(CLIP_CANCELS, key=job_id.encode(), value=job_id.encode()).get(timeout=self._timeout)


class ClipService:
    def __init__(self, db: Database, index: FrameIndex, publisher: JobPublisher, s3: Minio, bucket: str,
                 settings: ClipSettings) -> None:
        self._db, self._index, self._publisher = db, index, publisher
        self._s3, self._bucket, self._settings = s3, bucket, settings

    # -- asking for clips ----------------------------------------------------------------

    def create(self, camera: Camera, options: ClipOptions, *, since_us: int | None = None,
               until_us: int | None = None, event_id: str | None = None, created_by: str | None = None,
               share_id: str | None = None, kind: str = "clip", day: str | None = None) -> Clip:
        """A new clip of `camera`'s frames in [since_us, until_us), or of event `event_id`;
        queued, its job acknowledged by Kafka, when this returns. Raises InvalidInput,
        NotFound (no such event), Unavailable (Kafka did not acknowledge)."""
        since_us, until_us = self._range(camera, since_us, until_us, event_id)
        _validate(options)
        clip_id = new_id()
        now = now_us()
        clip = Clip(id=clip_id, camera_id=camera.id, kind=kind, day=day, created_by=created_by, share_id=share_id,
                    since_us=since_us, until_us=until_us, event_id=event_id,
                    **dataclasses.asdict(options), time_zone=camera.time_zone,
                    object_key=f"{camera.username}/clips/{clip_id}.mp4", state="queued", frames_done=0,
                    frames_total=0, eta_seconds=None, size=None, duration=None, reason=None, created_us=now,
                    updated_us=now)
        job = ClipJob(job_id=clip.id, camera=camera.username, since_us=since_us, until_us=until_us,
                      object_key=clip.object_key, speed=options.speed, factor=options.factor,  # type: ignore[arg-type]
                      fps=options.fps, max_frames=self._settings.clip_max_frames if kind == "clip" else DAILY_FRAMES,
                      max_width=options.max_width, max_height=options.max_height, timestamp=options.timestamp,
                      time_zone=camera.time_zone)
        with _told_in_time(), self._db.write() as conn:
            conn.execute(sa.insert(CLIPS).values(**dataclasses.asdict(clip)))
            self._publisher.job(job)
        return clip

    def _range(self, camera: Camera, since_us: int | None, until_us: int | None,
               event_id: str | None) -> tuple[int, int]:
        if event_id is not None:
            if since_us is not None or until_us is not None:
                raise InvalidInput("give either since and until, or event_id")
            stored = self._index.get_event(camera.username, event_id)
            if stored is None:
                raise NotFound("no such event")
            return stored.event.start_us, stored.event.end_us + 1
        if since_us is None or until_us is None:
            raise InvalidInput("give since and until, or event_id")
        if until_us <= since_us:
            raise InvalidInput("until must be after since")
        if until_us - since_us > self._settings.clip_max_range_days * DAY_US:
            raise InvalidInput(f"a clip spans at most {self._settings.clip_max_range_days:g} days")
        return since_us, until_us

    # -- reading -------------------------------------------------------------------------

    def of_camera(self, camera: Camera) -> list[Clip]:
        """The camera's clips, newest first (at most LIST_LIMIT)."""
        query = (sa.select(CLIPS).where(CLIPS.c.camera_id == camera.id)
                 .order_by(CLIPS.c.created_us.desc(), CLIPS.c.id).limit(LIST_LIMIT))
        with self._db.read() as conn:
            return [_clip(row) for row in conn.execute(query)]

    def get(self, camera: Camera, clip_id: str) -> Clip | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(CLIPS).where(CLIPS.c.id == clip_id, CLIPS.c.camera_id == camera.id)).first()
        return None if row is None else _clip(row)

    def daily(self, camera: Camera, day: str) -> Clip | None:
        """The daily time-lapse of `day` (YYYY-MM-DD in the camera's time zone), if made."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(CLIPS).where(CLIPS.c.camera_id == camera.id, CLIPS.c.day == day)).first()
        return None if row is None else _clip(row)

    # -- changing ------------------------------------------------------------------------

    def cancel(self, clip: Clip) -> Clip:
        """Stop a queued or rendering clip (the worker gives it up and takes its next job)."""
        if clip.state in FINAL_STATES:
            return clip
        try:
            self._publisher.cancel(clip.id)
        except KafkaError as error:
            raise Unavailable(f"the clip workers could not be told in time ({type(error).__name__})") from error
        with self._db.write() as conn:
            conn.execute(sa.update(CLIPS).where(CLIPS.c.id == clip.id, CLIPS.c.state.not_in(FINAL_STATES))
                         .values(state="cancelled", reason="cancelled", eta_seconds=None, updated_us=now_us()))
        return dataclasses.replace(clip, state="cancelled", reason="cancelled", eta_seconds=None)

    def delete(self, clip: Clip) -> None:
        """Cancel the clip if unfinished, remove its MP4 and its row."""
        self.cancel(clip)
        self._remove_object(clip.object_key)
        with self._db.write() as conn:
            conn.execute(sa.delete(CLIPS).where(CLIPS.c.id == clip.id))

    def apply(self, progress: ClipProgress) -> bool:
        """Write a worker's report to its clip; False when the clip is gone or already final
        (a report of a cancelled job, or a second render's)."""
        values: dict[str, Any] = {"state": progress.state, "frames_done": progress.frames_done,
                                  "frames_total": progress.frames_total, "eta_seconds": progress.eta_seconds,
                                  "updated_us": progress.updated_us or now_us()}
        if progress.state in FINAL_STATES:
            values.update(size=progress.size, duration=progress.duration, reason=progress.reason, eta_seconds=None)
        with self._db.write() as conn:
            changed = conn.execute(sa.update(CLIPS).where(CLIPS.c.id == progress.job_id,
                                                          CLIPS.c.state.not_in(FINAL_STATES)).values(values))
        return changed.rowcount > 0

    # -- the sweep: retention, deleted cameras, daily time-lapses -------------------------

    def sweep(self, now: int | None = None) -> int:
        """Delete clips older than the retention and clips of deleted cameras (the MP4
        first, then the row); returns how many."""
        now = now_us() if now is None else now
        cutoff = now - self._settings.clip_retention_days * DAY_US
        deleted_cameras = sa.select(CAMERAS.c.id).where(CAMERAS.c.deleted_us.is_not(None))
        query = sa.select(CLIPS).where(sa.or_(CLIPS.c.created_us < cutoff, CLIPS.c.camera_id.in_(deleted_cameras)))
        with self._db.read() as conn:
            gone = [_clip(row) for row in conn.execute(query)]
        for clip in gone:
            if clip.state not in FINAL_STATES:
                self._publisher.cancel(clip.id)
            self._remove_object(clip.object_key)
            with self._db.write() as conn:
                conn.execute(sa.delete(CLIPS).where(CLIPS.c.id == clip.id))
        return len(gone)

    def make_daily(self, now: int | None = None) -> list[Clip]:
        """For each camera with daily time-lapses on, the time-lapse of the last day that
        has ended in its time zone, if it has frames and none was made yet."""
        now = now_us() if now is None else now
        with self._db.read() as conn:
            rows = conn.execute(sa.select(CAMERAS).where(CAMERAS.c.daily_timelapse, CAMERAS.c.deleted_us.is_(None)))
            cameras = [Camera(**{f.name: getattr(row, f.name) for f in dataclasses.fields(Camera)}) for row in rows]
        made = []
        for camera in cameras:
            day, since_us, until_us = last_ended_day(now, camera.time_zone)
            if self.daily(camera, day) is not None or self._index.count(camera.username, since_us, until_us) == 0:
                continue
            try:
                made.append(self.create(camera, ClipOptions(timestamp=True), since_us=since_us, until_us=until_us,
                                        kind="daily", day=day))
            except (IntegrityError, Unavailable) as error:  # another replica made it, or Kafka is away: next sweep
                log.info("daily_timelapse_skipped", camera=camera.id, day=day, error=type(error).__name__)
        return made

    def _remove_object(self, key: str) -> None:
        try:
            self._s3.remove_object(self._bucket, key)
        except S3Error as error:
            if error.code not in ("NoSuchKey", "NoSuchBucket"):
                raise


def last_ended_day(now: int, time_zone: str) -> tuple[str, int, int]:
    """The last calendar day in `time_zone` that has ended at `now`: (YYYY-MM-DD, its
    start and its end in µs; a day of 23 or 25 hours where the clocks change)."""
    zone = ZoneInfo(time_zone)
    today = datetime.fromtimestamp(now / 1_000_000, tz=zone).date()
    day = today - timedelta(days=1)
    return day.isoformat(), _midnight(day, zone), _midnight(today, zone)


def _midnight(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(), tzinfo=zone).timestamp() * 1_000_000)


def _validate(options: ClipOptions) -> None:
    if options.speed not in ("realtime", "factor", "timelapse"):
        raise InvalidInput("speed must be realtime, factor or timelapse")
    if not 1.0 < options.factor <= 100_000 and options.speed == "factor":
        raise InvalidInput("factor must be above 1 and at most 100000")
    if not 1 <= options.fps <= 60:
        raise InvalidInput("fps must be between 1 and 60")
    if not (16 <= options.max_width <= MAX_SIDE and 16 <= options.max_height <= MAX_SIDE):
        raise InvalidInput(f"max_width and max_height must be between 16 and {MAX_SIDE}")


@contextmanager
def _told_in_time() -> Iterator[None]:
    try:
        yield
    except KafkaError as error:
        raise Unavailable(f"the clip workers could not be told in time ({type(error).__name__}); "
                          "nothing was made, try again") from error


def _clip(row: sa.Row[Any]) -> Clip:
    return Clip(**{field.name: getattr(row, field.name) for field in dataclasses.fields(Clip)})
