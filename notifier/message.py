"""What an alert says, independent of how it travels.

An `Alert` is the one value every channel renders: e-mail, webhook and push service
each turn the same alert into their own format and do nothing else, so the wording of
a title or the time zone of a time is decided once, here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sensr.deliveries import TEST_ALERT

JPEG_MAGIC = b"\xff\xd8\xff"


class AlertKind(enum.Enum):
    """What happened; the value is the webhook's event `type`."""

    MOTION_START = "motion.start"
    MOTION_END = "motion.end"
    OFFLINE = "camera.offline"
    ONLINE = "camera.online"
    TEST = TEST_ALERT


@dataclass(frozen=True, slots=True)
class MotionSummary:
    """How a motion event went, told when it ends."""

    duration: timedelta
    frames: int
    peak: float

    def describe(self) -> str:
        """`"2 min 5 s, 42 frames, peak 0.37"`."""
        minutes, seconds = divmod(round(self.duration.total_seconds()), 60)
        length = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
        return f"{length}, {self.frames} frames, peak {self.peak:.2f}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert about one camera.

    `at` is an aware time (when the event started, ended, or the camera went quiet or
    came back); it is shown in `time_zone`, the camera owner's. `link` is the absolute
    URL of the event (or camera) in the web UI. `key_frame` is the JPEG a motion alert
    shows, exactly as stored, only ever one of this camera's frames; `summary` comes
    with a motion end.
    """

    camera_id: str
    camera_name: str
    kind: AlertKind
    at: datetime
    time_zone: ZoneInfo
    link: str
    event_id: str | None = None
    key_frame: bytes | None = None
    summary: MotionSummary | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("an alert's time must be aware (it is shown in the owner's time zone)")
        if self.key_frame is not None and not self.key_frame.startswith(JPEG_MAGIC):
            raise ValueError("an alert's key frame must be a JPEG")
        if (self.summary is not None) != (self.kind is AlertKind.MOTION_END):
            raise ValueError("a motion end, and only a motion end, comes with a summary")

    @property
    def local_time(self) -> datetime:
        """`at` in the owner's time zone."""
        return self.at.astimezone(self.time_zone)

    def title(self) -> str:
        """One line, for a subject or a push title: `"Front door: motion at 14:02"`."""
        clock = self.local_time.strftime("%H:%M")
        match self.kind:
            case AlertKind.MOTION_START:
                what = f"motion at {clock}"
            case AlertKind.MOTION_END:
                what = f"motion ended at {clock}"
            case AlertKind.OFFLINE:
                what = f"no frames since {clock}"
            case AlertKind.ONLINE:
                what = f"back online at {clock}"
            case AlertKind.TEST:
                what = f"test alert at {clock}"
        return f"{self.camera_name}: {what}"

    def sentence(self) -> str:
        """The alert as a sentence with the full local date, for a message's body."""
        when = self.local_time.strftime("%a %d %b %Y, %H:%M:%S") + f" ({self.time_zone.key})"
        match self.kind:
            case AlertKind.MOTION_START:
                return f"Motion started on {self.camera_name} at {when}."
            case AlertKind.MOTION_END:
                assert self.summary is not None
                return f"Motion on {self.camera_name} ended at {when}: {self.summary.describe()}."
            case AlertKind.OFFLINE:
                return f"{self.camera_name} has sent no frame since {when}."
            case AlertKind.ONLINE:
                return f"{self.camera_name} is sending frames again since {when}."
            case AlertKind.TEST:
                return f"This is a test of an alert rule of {self.camera_name}, sent at {when}."

    def text(self) -> str:
        """The plain-text body: the sentence and the link."""
        return f"{self.sentence()}\n\n{self.link}\n"
