"""A camera's status, as the camera list, its pages and the JSON API show it: its latest
frame, how long ago that was, whether it is online, and how many frames it sent in the
last hour.

A camera is online while its latest frame is younger than its offline threshold (the
camera's `offline_minutes`, see `sensr.cameras.CameraLogin`, or that field's default
where the camera has none), offline after that, and `new` before its first frame.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from api.cameras import Camera
from sensr.cameras import CameraLogin
from sensr.index import HOUR_US, FrameIndex, FrameRecord

State = Literal["online", "offline", "new"]
MINUTE_US = 60_000_000
CLOCK_TOLERANCE_US = MINUTE_US
"""A camera clock further than this from Sensr's is shown as off (with the difference)."""
DEFAULT_OFFLINE_MINUTES: int = next(f.default for f in fields(CameraLogin) if f.name == "offline_minutes")  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class CameraStatus:
    latest: FrameRecord | None
    frames_last_hour: int
    offline_minutes: int
    now_us: int

    @property
    def age_us(self) -> int | None:
        """How long ago the latest frame was taken (never negative); None before the first."""
        return None if self.latest is None else max(0, self.now_us - self.latest.timestamp_us)

    @property
    def state(self) -> State:
        age = self.age_us
        if age is None:
            return "new"
        return "online" if age < self.offline_minutes * MINUTE_US else "offline"


def offline_minutes(camera: Camera) -> int:
    """The camera's offline threshold in minutes (its own where it has one)."""
    own = getattr(camera, "offline_minutes", None)
    return own if isinstance(own, int) and own > 0 else DEFAULT_OFFLINE_MINUTES


def camera_status(index: FrameIndex, camera: Camera, now_us: int) -> CameraStatus:
    """The camera's status at `now_us`. Blocks (two index queries)."""
    latest = index.latest(camera.username)
    recent = index.count(camera.username, now_us - HOUR_US, now_us + 1) if latest is not None else 0
    return CameraStatus(latest, recent, offline_minutes(camera), now_us)


def age_text(age_us: int | None) -> str:
    """`just now`, `2 min ago`, `3 h ago`, `4 days ago`; `never` for None."""
    if age_us is None:
        return "never"
    seconds = age_us // 1_000_000
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86_400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86_400
    return f"{days} day{'' if days == 1 else 's'} ago"


def clock_offset_text(offset_us: int) -> str:
    """How far a camera's clock is from Sensr's: `3 min 5 s ahead`, `1 h 2 min behind`."""
    seconds = abs(offset_us) // 1_000_000
    hours, minutes, rest = seconds // 3600, seconds % 3600 // 60, seconds % 60
    parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if minutes else []) + \
        ([f"{rest} s"] if rest and not hours else [])
    return f"{' '.join(parts) or '0 s'} {'ahead' if offset_us > 0 else 'behind'}"


def clock_offset_us(frame: FrameRecord) -> int | None:
    """The camera's clock minus Sensr's for this frame; None where the camera gave no time."""
    return None if frame.camera_time_us is None else frame.camera_time_us - frame.timestamp_us
