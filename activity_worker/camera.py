"""One camera's activity as the replica that owns the camera keeps it: its background
model, its open event, its last frame and whether it was announced offline.

**Taking a camera over** (the first frame of a camera after a start, a rebalance or a
retry; `CameraActivity.resume`): everything that must survive is in the index, so the
state is rebuilt from it, never carried between replicas:

* *The open event.* The camera's scores from the start of its oldest event not ended
  are fed again through a fresh `EventTracker`: the same frames in the same order give
  the same event, the same id and the same counts as the replica that scored them
  (the event rows may lag the scores by one batch; the scores are the truth).
* *Frames already scored.* Frames at or before the camera's last recorded score are a
  redelivery (the offsets were not committed yet when the previous owner stopped): their
  effect is already in the index and in the resumed event, so they are not scored again;
  they only warm the background model.
* *The background model* starts empty: the first `motion.WARMUP_FRAMES` frames it sees
  (the redelivered ones first) only build its baseline; they are never moving, so a
  takeover never opens a false event. The frames of an event that go by during the
  warm-up still count in its `frame_count` (the event stays open through them, unless
  the camera's event gap passes), only not in `moving_frames`.

**Presence.** A camera the replica owns and that has sent frames before is announced
offline once when no frame came for its `offline_minutes` (by the Sensr clock, and only
when the replica has read its partition to the end and got no frame of the camera for
`OFFLINE_SETTLE_SECONDS`, so that working through a backlog never announces one), unless
it is disabled; the first frame after that (or any frame
that comes `offline_minutes` after the one before) announces it online. Record ids name
the frames (`sensr.activity`), so repeating them after a takeover is deduplicated
downstream.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from activity_worker import metrics
from activity_worker.events import EventSettings, EventTracker
from activity_worker.motion import SENSITIVITY, MotionModel, MotionResult, MotionSettings, UndecodableFrame, Zone
from sensr.activity import ActivityRecord, EventRecord, FrameLocation, PresenceRecord, Transition
from sensr.cameras import CameraLogin
from sensr.frames import FrameEvent
from sensr.index import FrameIndex, FrameScore
from sensr.logs import get_logger

log = get_logger(__name__)

MINUTE_US = 60_000_000
OFFLINE_SETTLE_SECONDS = 5.0
"""A camera whose frames still arrive is not offline, however old their timestamps (a
backlog read in batches, or a camera uploading old files): it must also have sent nothing
to this worker for this long."""


def motion_settings(login: CameraLogin | None) -> MotionSettings:
    """The camera's sensitivity and ignore zones (the defaults for a camera not known). The
    api validates both; what another writer of `sensr.cameras` got wrong is logged and left
    out (a sensitivity out of range is brought into it), never a reason to stop scoring."""
    if login is None:
        return MotionSettings()
    zones: list[Zone] = []
    for zone in login.ignore_zones:
        try:
            zones.append(Zone(*zone))
        except (TypeError, ValueError) as error:
            log.warning("camera_zone_invalid", camera=login.username, zone=str(zone), error=str(error))
    sensitivity = login.sensitivity if isinstance(login.sensitivity, int) else 5
    return MotionSettings(min(max(sensitivity, min(SENSITIVITY)), max(SENSITIVITY)), tuple(zones))


def event_settings(login: CameraLogin | None) -> EventSettings:
    """The camera's event gap (the default for a camera not known or a gap that is not positive)."""
    try:
        return EventSettings() if login is None else EventSettings(float(login.event_gap_seconds))
    except (TypeError, ValueError):
        log.warning("camera_event_gap_invalid", camera=login.username if login else "", gap=str(login and login.event_gap_seconds))
        return EventSettings()


@dataclass
class CameraActivity:
    camera: str
    model: MotionModel
    tracker: EventTracker
    scored_until: tuple[int, str] | None = None
    """(timestamp, frame id) of the camera's last score recorded at takeover: frames up to it are redelivered."""
    last_frame_id: str | None = None
    last_frame_us: int | None = None
    last_arrival: float = 0.0
    """When the last frame was taken (the worker's monotonic clock): a camera still sending is not offline."""
    offline_announced: bool = False
    login: CameraLogin | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def resume(cls, camera: str, login: CameraLogin | None, index: FrameIndex,
               clock: Callable[[], float] = time.monotonic) -> tuple["CameraActivity", list[EventRecord]]:
        """The camera as the index left it (see the module's docstring), and the latest
        record of each event the replay of its scores went through (to store and publish
        again: the previous owner may have stopped before it did)."""
        tracker = EventTracker(camera, event_settings(login))
        replayed: dict[str, EventRecord] = {}
        open_events = index.open_events(camera)
        if open_events:
            for score in index.scores_since(camera, open_events[0].start_us):
                result = MotionResult(score.score, score.moving, score.scene_change)
                for record in tracker.observe(score.frame_id, score.timestamp_us, result):
                    replayed[record.event.event_id] = record
        latest = index.latest_score(camera)
        state = cls(camera, MotionModel(motion_settings(login)), tracker, login=login, clock=clock,
                    last_arrival=clock())
        if latest is not None:
            state.scored_until = (latest.timestamp_us, latest.frame_id)
            state.last_frame_id, state.last_frame_us = latest.frame_id, latest.timestamp_us
        metrics.CAMERAS_RESUMED.inc()
        return state, list(replayed.values())

    def apply(self, login: CameraLogin | None) -> None:
        """Use the camera's current settings from the next frame on (the model is kept)."""
        if login is self.login or login is None:
            return
        self.login = login
        motion, events = motion_settings(login), event_settings(login)
        if motion != self.model.settings:
            self.model.settings = motion
        if events != self.tracker.settings:
            self.tracker.settings = events

    def take(self, frame: FrameEvent, now_us: int,
             location: FrameLocation | None = None) -> tuple[FrameScore | None, list[ActivityRecord]]:
        """Score the camera's next frame (read at `location` on `sensr.frames`): its score
        to record (None for a redelivered frame) and the records it causes (online, event
        start, update, end)."""
        if self.scored_until is not None and (frame.timestamp_us, frame.frame_id) <= self.scored_until:
            try:
                self.model.score(frame.jpeg)
            except UndecodableFrame:
                pass
            metrics.FRAMES_REDELIVERED.inc()
            return None, []
        records: list[ActivityRecord] = []
        window = self._offline_window_us()
        if self.last_frame_us is not None and (
                self.offline_announced or (window and frame.timestamp_us - self.last_frame_us >= window)):
            records.append(PresenceRecord(self.camera, True, frame.frame_id, frame.timestamp_us, now_us))
        started = time.perf_counter()
        try:
            result = self.model.score(frame.jpeg)
            verdict = ("scene_change" if result.scene_change else "warming_up" if result.warming_up
                       else "moving" if result.moving else "quiet")
        except UndecodableFrame:
            result, verdict = MotionResult(score=0.0, moving=False), "undecodable"
        metrics.SCORE_SECONDS.observe(time.perf_counter() - started)
        metrics.FRAMES_SCORED.labels(verdict).inc()
        changes = self.tracker.observe(frame.frame_id, frame.timestamp_us, result, location)
        metrics.EVENTS_OPENED.inc(sum(1 for c in changes if c.transition is Transition.START))
        records.extend(changes)
        self.last_frame_id, self.last_frame_us = frame.frame_id, frame.timestamp_us
        self.last_arrival = self.clock()
        self.offline_announced = False
        score = FrameScore(frame.frame_id, self.camera, frame.timestamp_us, result.score, result.moving,
                           result.scene_change)
        return score, records

    def tick(self, now_us: int, caught_up: bool, stream_us: int | None) -> list[ActivityRecord]:
        """What the passing of time causes while the camera sends nothing: the end of its
        event once `stream_us` (the Sensr time its partition has got to, see
        `stream_clock`; never the worker's clock) is the event gap past its last moving
        frame, and its offline record."""
        records: list[ActivityRecord] = []
        if stream_us is not None:
            records.extend(self.tracker.expire(stream_us))
        window = self._offline_window_us()
        settled = self.clock() - self.last_arrival >= OFFLINE_SETTLE_SECONDS
        if (window and caught_up and settled and not self.offline_announced and self.last_frame_id is not None
                and self.last_frame_us is not None and now_us - self.last_frame_us >= window
                and self.login is not None and self.login.enabled):
            self.offline_announced = True
            records.append(PresenceRecord(self.camera, False, self.last_frame_id, self.last_frame_us, now_us))
        return records

    def _offline_window_us(self) -> int:
        """The silence that makes the camera offline, in µs (0: never)."""
        minutes = self.login.offline_minutes if self.login is not None else 0
        return max(0, minutes) * MINUTE_US

