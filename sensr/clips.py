"""The clip contracts: a render job on `sensr.clip-jobs`, its progress and outcome on
`sensr.clip-progress`, and cancellations on `sensr.clip-cancels`.

The api publishes a `ClipJob` (key: the job id, so jobs spread over the partitions and
the clip workers of group `clips` share them); a clip worker renders it and publishes
`ClipProgress` records (key: the camera username, so one camera's records stay in order
and the api's per-camera feeds can follow them, as they do `sensr.catalog`). A cancel is
the job id alone (key and value), read by every worker.

Values are JSON objects with their schema version in `v` (`sensr.topic_json`). A job may
be delivered more than once (a worker killed mid-job: the next owner of its partition
renders it again); its output key is fixed by the job, so a second render overwrites the
same object, and readers of progress take the latest record of a job.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from sensr.topic_json import decode_versioned

CLIP_SCHEMA_VERSION = 1

Speed = Literal["realtime", "factor", "timelapse"]
"""`realtime`: frames placed by their Sensr timestamps; `factor`: the same, `factor` times
faster; `timelapse`: one stored frame per output frame at `fps`."""
State = Literal["queued", "rendering", "ready", "failed", "cancelled"]
FINAL_STATES: frozenset[str] = frozenset({"ready", "failed", "cancelled"})


class ClipContractError(ValueError):
    """A clip record that does not follow its contract."""


@dataclass(frozen=True, slots=True)
class ClipJob:
    """What to render: a camera's frames in [`since_us`, `until_us`) into `object_key`."""

    job_id: str
    camera: str
    """The camera's upload username (frames are indexed by it)."""
    since_us: int
    until_us: int
    object_key: str
    speed: Speed = "timelapse"
    factor: float = 1.0
    fps: float = 30.0
    """Output frames per second of a time-lapse; the nominal rate of the other speeds."""
    max_frames: int = 1800
    """Most output frames; a range holding more is sampled down to this many by time."""
    max_width: int = 1280
    max_height: int = 720
    timestamp: bool = False
    """Burn each frame's Sensr timestamp (in `time_zone`) into its corner."""
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.until_us <= self.since_us:
            raise ClipContractError("a clip's range must not be empty")
        if self.speed not in ("realtime", "factor", "timelapse"):
            raise ClipContractError(f"unknown speed {self.speed!r}")
        if self.factor <= 0 or self.fps <= 0 or self.max_frames < 1:
            raise ClipContractError("factor, fps and max_frames must be positive")
        if self.max_width < 16 or self.max_height < 16:
            raise ClipContractError("the output must be at least 16x16")

    @property
    def rate(self) -> float:
        """How many times faster than real time frames are placed (realtime: 1)."""
        return 1.0 if self.speed == "realtime" else self.factor

    def value(self) -> bytes:
        return _encode(asdict(self))

    @classmethod
    def decode(cls, value: bytes | None) -> ClipJob:
        fields = decode_versioned(value, CLIP_SCHEMA_VERSION, "clip job", ClipContractError)
        try:
            return cls(**fields)
        except TypeError as error:
            raise ClipContractError(f"malformed clip job: {error}") from None


@dataclass(frozen=True, slots=True)
class ClipProgress:
    """Where a job stands: `rendering` with `frames_done` of `frames_total` and an
    estimate of the seconds left, then one final state: `ready` (with the MP4's `size` in
    bytes and `duration` in seconds), `failed` (with `reason`) or `cancelled`."""

    job_id: str
    camera: str
    state: State
    frames_done: int = 0
    frames_total: int = 0
    eta_seconds: float | None = None
    size: int | None = None
    duration: float | None = None
    reason: str | None = None
    updated_us: int = 0

    @property
    def percent(self) -> float:
        if self.state == "ready":
            return 100.0
        return round(100.0 * self.frames_done / self.frames_total, 1) if self.frames_total else 0.0

    def key(self) -> bytes:
        return self.camera.encode()

    def value(self) -> bytes:
        return _encode(asdict(self))

    @classmethod
    def decode(cls, key: bytes | None, value: bytes | None, headers: object = None) -> ClipProgress:
        """(Takes a record's key, value and headers, as the api's live feeds decode.)"""
        fields = decode_versioned(value, CLIP_SCHEMA_VERSION, "clip progress", ClipContractError)
        try:
            return cls(**fields)
        except TypeError as error:
            raise ClipContractError(f"malformed clip progress: {error}") from None


def _encode(fields: dict[str, object]) -> bytes:
    return json.dumps({"v": CLIP_SCHEMA_VERSION, **fields}, separators=(",", ":")).encode()
