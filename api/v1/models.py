"""The JSON bodies of API v1: request models validate what clients send, response
models shape what they get back; `api.v1.openapi` publishes the schemas of both, so the
document cannot drift from what the handlers accept and return.

Optional response fields are left out, not null, when they do not apply (the owner-only
pieces of a camera, the one-time token of a share).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from api.activity_settings import (EVENT_GAP_SECONDS, MAX_ZONES, OFFLINE_MINUTES, SENSITIVITY,
                                   UNMOVING_KEEP_HOURS)
from api.cameras import MAX_NAME_LENGTH, MAX_RETENTION_DAYS
from api.shares import MAX_LABEL_LENGTH
from api.text import PLAIN_TEXT_PATTERN
from api.users import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH

Absent = SkipJsonSchema[None]
"""For fields that may be left out but are never null: `name: str | Absent = None`."""


PLAIN = {"pattern": PLAIN_TEXT_PATTERN}
"""Documents `api.text`'s rule (no control characters) on the fields it applies to; the
services enforce it, for these bodies and the web UI's forms alike."""

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH, examples=["Front door"],
                            json_schema_extra=PLAIN)]
RetentionDays = Annotated[int, Field(ge=1, le=MAX_RETENTION_DAYS)]


Fraction = Annotated[float, Field(ge=0, le=1)]
Sensitivity = Annotated[int, Field(ge=SENSITIVITY[0], le=SENSITIVITY[1], description=(
    "Motion sensitivity: 1 sees only large changes, 10 the smallest; 5 (the default) suits most cameras, "
    "3 cheap cameras in low light."))]
EventGap = Annotated[float, Field(ge=EVENT_GAP_SECONDS[0], le=EVENT_GAP_SECONDS[1],
                                  description="Quiet seconds that end a motion event.")]
UnmovingKeepHours = Annotated[int, Field(ge=UNMOVING_KEEP_HOURS[0], le=UNMOVING_KEEP_HOURS[1], description=(
    "With keep_what_matters: hours a frame of no motion event is kept."))]
OfflineMinutes = Annotated[int, Field(ge=OFFLINE_MINUTES[0], le=OFFLINE_MINUTES[1], description=(
    "Minutes without a frame after which the camera counts as offline."))]


class ZoneModel(BaseModel):
    """An ignore zone: a rectangle never scored for motion, in fractions of the frame's width
    and height (so it stays in place when the resolution changes); left < right, top < bottom."""

    model_config = ConfigDict(extra="forbid", title="Zone")
    left: Fraction
    top: Fraction
    right: Fraction
    bottom: Fraction

    @model_validator(mode="after")
    def _a_rectangle(self) -> ZoneModel:
        if not (self.left < self.right and self.top < self.bottom):
            raise ValueError("a zone needs left < right and top < bottom")
        return self


IgnoreZones = Annotated[list[ZoneModel], Field(max_length=MAX_ZONES, description=(
    "Rectangles never scored for motion."))]
KeepWhatMatters = Annotated[bool, Field(description=(
    "When on, frames of no motion event are removed after unmoving_keep_hours; frames of events are kept "
    "for the camera's retention."))]


def _NO_DEFAULT(schema: dict[str, object]) -> None:
    """For fields that may be left out but are never null, without a union with None (whose
    errors would name pydantic's union branches): no `default: null` in the document."""
    schema.pop("default", None)


class _Request(BaseModel):
    # Strict: `"enabled": 0` is a client's mistake to report, not a False to guess.
    model_config = ConfigDict(extra="forbid", strict=True)


class Credentials(_Request):
    """An e-mail address and password, to sign up (POST /users) or log in (POST /tokens)."""

    email: str = Field(max_length=MAX_EMAIL_LENGTH, examples=["ada@example.com"], json_schema_extra=PLAIN)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH, examples=["correct horse battery"])


class CameraCreate(_Request):
    name: Name
    public: bool = Field(False, description="Readable by anyone, without login.")
    retention_days: RetentionDays | None = Field(None, description="Days frames are kept; null: the server's default.")
    enabled: bool = Field(True, description="Whether the upload login accepts uploads.")


class CameraPatch(_Request):
    """Only the fields present change. `retention_days: null` returns to the default."""

    name: Name | Absent = None
    public: bool | Absent = None
    retention_days: RetentionDays | None = None
    enabled: bool | Absent = None
    sensitivity: Sensitivity = Field(None, json_schema_extra=_NO_DEFAULT)  # type: ignore[assignment]
    ignore_zones: IgnoreZones = Field(None, json_schema_extra=_NO_DEFAULT)  # type: ignore[assignment]
    event_gap_seconds: EventGap = Field(None, json_schema_extra=_NO_DEFAULT)  # type: ignore[assignment]
    keep_what_matters: KeepWhatMatters = Field(None, json_schema_extra=_NO_DEFAULT)  # type: ignore[assignment]
    unmoving_keep_hours: UnmovingKeepHours = Field(None, json_schema_extra=_NO_DEFAULT)  # type: ignore[assignment]
    offline_minutes: OfflineMinutes = Field(None, json_schema_extra=_NO_DEFAULT)  # type: ignore[assignment]
    daily_timelapse: bool | Absent = Field(None, description="Make a time-lapse of each day once it has ended "
                                                             "in `time_zone`; it shows on the day's page.")
    time_zone: Annotated[str, Field(min_length=1, max_length=64)] | Absent = Field(
        None, examples=["Europe/Paris"], description="The owner's IANA time zone for this camera's days.")

    @model_validator(mode="after")
    def _not_null(self) -> CameraPatch:
        for name in self.model_fields_set - {"retention_days"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may be left out but not null")
        return self

    def changes(self) -> dict[str, object]:
        changes: dict[str, object] = {name: getattr(self, name) for name in self.model_fields_set}
        if self.ignore_zones is not None:
            changes["ignore_zones"] = [zone.model_dump() for zone in self.ignore_zones]
        return changes


class ShareCreate(_Request):
    label: str | None = Field(None, max_length=MAX_LABEL_LENGTH, description="A note for the owner, e.g. who got it.",
                              json_schema_extra=PLAIN)
    allow_clips: bool = Field(False, description="Whoever holds the link may also make, watch and download clips "
                                                 "of this camera.")


class Error(BaseModel):
    error: str = Field(description="A stable code, e.g. `not_found`, `invalid_input`, `rate_limited`.")
    message: str = Field(description="What went wrong, for people.")


class UserOut(BaseModel):
    id: str
    email: str
    created: str = Field(description="ISO 8601, UTC.")
    time_zone: str | None = Field(None, description="IANA time zone the user chose for days and hours; "
                                                    "null: the browser's (the web UI) or UTC (this API).")


class TokenOut(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires: str = Field(description="ISO 8601, UTC.")


class UploadUrls(BaseModel):
    ftp: str = Field(examples=["ftp://cam28:l4hqpy0ywm@sensr.example:2121/"])
    photo: str = Field(description="POST or PUT one JPEG (Basic auth from the URL).")
    mjpeg: str = Field(description="POST a stream of JPEGs (MJPEG).")


class CameraOut(BaseModel):
    id: str
    name: str
    public: bool
    retention_days: int | None
    enabled: bool
    created: str = Field(description="ISO 8601, UTC.")
    daily_timelapse: bool = False
    time_zone: str = "UTC"
    host: str | Absent = Field(None, description="Owner only: the upload HOST.")
    username: str | Absent = Field(None, description="Owner only: the upload USERNAME.")
    password: str | Absent = Field(None, description="Owner only: the upload PASSWORD.")
    upload_urls: UploadUrls | Absent = Field(None, description="Owner only.")
    sensitivity: Sensitivity | Absent = Field(None, description="Owner only: motion sensitivity, 1-10.")
    ignore_zones: list[ZoneModel] | Absent = Field(None, description="Owner only: rectangles never scored.")
    event_gap_seconds: float | Absent = Field(None, description="Owner only: quiet seconds that end an event.")
    keep_what_matters: bool | Absent = Field(None, description="Owner only: remove frames of no event early.")
    unmoving_keep_hours: int | Absent = Field(None, description="Owner only: hours such frames are kept.")
    offline_minutes: int | Absent = Field(None, description="Owner only: minutes of silence that make it offline.")


class CameraList(BaseModel):
    cameras: list[CameraOut]


class FrameOut(BaseModel):
    id: str
    camera_id: str
    timestamp: str = Field(description="When Sensr received the frame: ISO 8601, UTC, microseconds.")
    timestamp_us: int = Field(description="The same instant in microseconds since the epoch.")
    size: int = Field(description="Bytes of the JPEG.")
    width: int
    height: int
    source: str = Field(description="How it was uploaded: `ftp`, `http` or `mjpeg`.")
    filename: str | None = Field(description="The uploaded file's name, when there was one.")
    image_url: str
    thumbnail_url: str
    score: float | None = Field(None, description="Motion score, 0-100 (the share of the picture that changed); "
                                                  "null while the frame is not scored yet.")
    moving: bool | None = Field(None, description="Whether the score reached the camera's sensitivity; null while "
                                                  "not scored.")
    camera_time: str | None = Field(None, description="The camera's own clock for the frame (from its file name): "
                                                      "its wall-clock time, ISO 8601 without an offset; null when "
                                                      "the camera gave none.")
    camera_time_us: int | None = Field(None, description="The same, in microseconds since the epoch read as UTC.")
    camera_clock_offset_s: float | None = Field(None, description="The camera's clock minus Sensr's, in seconds "
                                                                  "(positive: the camera is ahead).")


class FramePageOut(BaseModel):
    frames: list[FrameOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: no more.")
    next: str | None = Field(description="The next page's URL; null: no more.")


class HourCount(BaseModel):
    start: str = Field(description="Start of the hour: ISO 8601, UTC.")
    start_us: int
    count: int
    moving_frames: int = Field(0, description="Frames of the hour found moving.")
    events: int = Field(0, description="Motion events that started in the hour.")
    local_start: str | Absent = Field(None, description="With `tz`: the start in that zone, with its offset "
                                                        "(`2026-10-25T02:00:00+01:00`).")


class DayCount(BaseModel):
    date: str = Field(description="The local date in `tz`: `2026-10-25`.")
    start: str = Field(description="Local midnight, ISO 8601 with the zone's offset.")
    hours: int = Field(description="Length of the day in hours: 24, or 23 / 25 when clocks change.")
    count: int


class CalendarOut(BaseModel):
    camera_id: str
    since: str
    until: str
    total: int
    hours: list[HourCount] = Field(description="Hours holding frames or activity, ascending; empty hours are "
                                               "left out.")
    time_zone: str | Absent = Field(None, description="With `tz`: the zone days are counted in.")
    days: list[DayCount] | Absent = Field(None, description="With `tz`: local days holding frames, ascending.")


class ShareOut(BaseModel):
    id: str
    camera_id: str
    label: str | None
    created: str
    allow_clips: bool = False
    token: str | Absent = Field(None, description="Only in the answer to POST: the share token.")
    url: str | Absent = Field(None, description="Only in the answer to POST: the camera's URL with the token.")


class ShareList(BaseModel):
    shares: list[ShareOut]


ClockTime = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", examples=["22:00"])]


class AlertRuleCreate(_Request):
    """An alert rule: what to tell (triggers), over which channel, and when not to."""

    channel: str = Field(description="`email`, `webhook` or `push` (an Apprise URL).",
                         json_schema_extra={"enum": ["email", "webhook", "push"]})
    target: str = Field(min_length=1, max_length=2000, description="The e-mail address, webhook URL or Apprise URL.",
                        examples=["owner@example.org", "https://example.org/hooks/sensr", "ntfy://ntfy.sh/my-topic"])
    on_start: bool = Field(True, description="Alert when motion starts (with the key frame).")
    on_end: bool = Field(False, description="Alert when motion ends (with a summary).")
    on_offline: bool = Field(True, description="Alert when the camera stops sending frames.")
    on_online: bool = Field(True, description="Alert when it sends frames again.")
    quiet_start: ClockTime | None = Field(None, description="Start of the quiet hours (HH:MM in time_zone).")
    quiet_end: ClockTime | None = Field(None, description="End of the quiet hours (HH:MM in time_zone).")
    time_zone: str = Field("UTC", max_length=64, description="The owner's IANA time zone, for quiet hours and "
                                                              "the times in messages.", examples=["Europe/Berlin"])
    spacing_seconds: int = Field(300, ge=0, le=86_400, description="Least seconds between two motion alerts.")


class AlertRulePatch(_Request):
    """Only the fields present change."""

    target: Annotated[str, Field(min_length=1, max_length=2000)] | Absent = None
    on_start: bool | Absent = None
    on_end: bool | Absent = None
    on_offline: bool | Absent = None
    on_online: bool | Absent = None
    quiet_start: ClockTime | None = None
    quiet_end: ClockTime | None = None
    time_zone: Annotated[str, Field(max_length=64)] | Absent = None
    spacing_seconds: Annotated[int, Field(ge=0, le=86_400)] | Absent = None

    @model_validator(mode="after")
    def _not_null(self) -> AlertRulePatch:
        for name in self.model_fields_set - {"quiet_start", "quiet_end"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may be left out but not null")
        return self

    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class AlertRuleOut(BaseModel):
    id: str
    camera_id: str
    channel: str
    target: str
    secret: str | Absent = Field(None, description="Webhook rules: the Standard Webhooks signing secret "
                                                   "(`whsec_…`) to verify `webhook-signature` with.")
    on_start: bool
    on_end: bool
    on_offline: bool
    on_online: bool
    quiet_start: str | None
    quiet_end: str | None
    time_zone: str
    spacing_seconds: int
    created: str = Field(description="ISO 8601, UTC.")


class AlertRuleList(BaseModel):
    rules: list[AlertRuleOut]


class DeliveryOut(BaseModel):
    """One alert delivery: a rule, what it told (an activity record, or a test), its outcome."""

    id: str = Field(description="Also the webhook's `webhook-id`, the same on every retry.")
    rule_id: str
    channel: str
    kind: str = Field(description="`motion.start`, `motion.end`, `camera.offline`, `camera.online` or `test`.")
    record_id: str
    state: str = Field(description="`pending` (to send, or to retry), `delivered`, `failed` (for good), or "
                                   "`skipped` (quiet hours, spacing; the reason is in last_error).")
    attempts: int
    last_status: int | None = Field(description="HTTP status of the last attempt (250 for an accepted e-mail).")
    last_error: str | None
    created: str
    updated: str
    next_attempt: str | None = Field(description="When a pending delivery is tried next.")


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut] = Field(description="Newest first.")
class EventOut(BaseModel):
    """A motion event: consecutive moving frames of a camera (quiet gaps shorter than its
    event gap included)."""

    id: str
    camera_id: str
    start: str = Field(description="Its first moving frame's time: ISO 8601, UTC.")
    start_us: int
    end: str = Field(description="Its last moving frame so far: ISO 8601, UTC.")
    end_us: int
    ended: bool = Field(description="False while the event may still grow.")
    frame_count: int = Field(description="Frames of the camera from start to end, moving or not.")
    moving_frames: int
    peak_score: float = Field(description="The highest motion score of its frames, 0-100.")
    key_frame_id: str = Field(description="The frame with the highest score.")
    key_frame_url: str = Field(description="The key frame's JPEG.")
    key_thumbnail_url: str = Field(description="The key frame's thumbnail JPEG.")
    url: str = Field(description="This event with its frames.")


class EventPageOut(BaseModel):
    events: list[EventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: no more.")
    next: str | None = Field(description="The next page's URL; null: no more.")


class EventDetailOut(BaseModel):
    event: EventOut
    frames: list[FrameOut] = Field(description="The event's frames, oldest first (at most `limit`).")
    frames_next: str | None = Field(description="The URL of the frames listing that continues them; null: no more.")


class ActivityMessage(BaseModel):
    """The data of an `event: activity` server-sent event: an event's start, update or end."""

    id: str = Field(description="The same each time the same fact is sent again: deduplicate by it.")
    type: str = Field(description="`event.start`, `event.update` or `event.end`.")
    event: EventOut
class ClipCreate(_Request):
    """A clip of a time range (`since` and `until`) or of an event (`event_id`)."""

    since: str | Absent = Field(None, description="Start, inclusive: ISO 8601 or epoch seconds.",
                                examples=["2026-11-25T14:00:00Z"])
    until: str | Absent = Field(None, description="End, exclusive: ISO 8601 or epoch seconds.",
                                examples=["2026-11-25T15:00:00Z"])
    event_id: str | Absent = Field(None, description="An activity event's id: its span is the range.")
    speed: Literal["realtime", "factor", "timelapse"] = Field(
        "timelapse", description="`realtime`: frames at their Sensr timestamps; `factor`: the same, `factor` times "
                                 "faster; `timelapse`: one frame per output frame at `fps`.")
    factor: float = Field(10.0, gt=1, le=100_000, description="Speed-up for `speed: factor`.")
    fps: float = Field(30.0, ge=1, le=60, description="Output frames per second of a time-lapse.")
    max_width: int = Field(1280, ge=16, le=3840, description="Largest output width (frames are scaled down to fit).")
    max_height: int = Field(720, ge=16, le=3840, description="Largest output height.")
    timestamp: bool = Field(False, description="Burn each frame's time (in the camera's time zone) into a corner.")

    @model_validator(mode="after")
    def _not_null(self) -> ClipCreate:
        for name in ("since", "until", "event_id"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may be left out but not null")
        return self


class ClipOut(BaseModel):
    id: str
    camera_id: str
    kind: str = Field(description="`clip`, or `daily`: the camera's daily time-lapse of `day`.")
    day: str | None = Field(description="For a daily time-lapse: the day, YYYY-MM-DD in the camera's time zone.")
    state: str = Field(description="`queued`, `rendering`, `ready`, `failed` or `cancelled`.")
    percent: float
    frames_done: int
    frames_total: int
    eta_seconds: float | None = Field(description="While rendering: the estimated seconds left.")
    size: int | None = Field(description="When ready: bytes of the MP4.")
    duration: float | None = Field(description="When ready: seconds of video.")
    reason: str | None = Field(description="When failed: why.")
    since: str
    until: str
    event_id: str | None
    speed: str
    factor: float
    fps: float
    max_width: int
    max_height: int
    timestamp: bool
    created: str
    url: str = Field(description="This clip's JSON.")
    video_url: str = Field(description="The MP4 (H.264, yuv420p, faststart), with range requests.")
    download_url: str = Field(description="The MP4 as an attachment with a file name.")


class ClipList(BaseModel):
    clips: list[ClipOut]
class FramesDeletedOut(BaseModel):
    """How many frames a range deletion removed."""

    deleted: int


class MePatch(_Request):
    time_zone: str | None = Field(description="IANA name (`Europe/Berlin`); null: the browser's.",
                                  max_length=64, examples=["Europe/Berlin"])


class PasswordChange(_Request):
    """Ends every other session and token of the user; the token of this request stays."""

    current_password: str = Field(max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class AccountDelete(_Request):
    password: str = Field(max_length=MAX_PASSWORD_LENGTH, description="The account's password, to confirm.")


class AccountDeletedOut(BaseModel):
    """What went with the account (frames and their images go within minutes, as for a deleted camera)."""

    cameras: int
    frames: int
    share_links: int


class TokenInfoOut(BaseModel):
    id: str = Field(description="Derived from the token's hash: names it for revocation, opens nothing.")
    kind: str = Field(description="`api` (POST /tokens) or `session` (a web UI login).")
    created: str = Field(description="ISO 8601, UTC.")
    expires: str = Field(description="ISO 8601, UTC.")
    current: bool = Field(description="The token of this request.")


class TokenList(BaseModel):
    tokens: list[TokenInfoOut]
class CameraStatusOut(BaseModel):
    """A camera's status now."""

    camera_id: str
    state: Literal["online", "offline", "new"] = Field(
        description="`online` while the latest frame is younger than `offline_minutes`, `offline` after that, "
                    "`new` before the first frame.")
    offline_minutes: int = Field(description="The camera's offline threshold.")
    last_frame: FrameOut | None = Field(description="The latest frame; null before the first.")
    last_frame_age_s: float | None = Field(description="Seconds since the latest frame was taken.")
    frames_last_hour: int
    now: str = Field(description="When the status was taken: ISO 8601, UTC.")


class TimelineOut(BaseModel):
    """The frame density of a span in fixed buckets: what a timeline of that span needs."""

    camera_id: str
    since_us: int
    until_us: int
    step_s: int = Field(description="Bucket width in seconds.")
    total: int = Field(description="Frames in the span.")
    # Described as arrays of 4 integers or strings, not a tuple: schemathesis cannot read `prefixItems`.
    buckets: list[Annotated[list[int | str], Field(min_length=4, max_length=4)]] = Field(
        description="Buckets holding frames, ascending, each `[n, frames, first frame id, first frame µs]`; "
                    "bucket n starts at `since_us + n * step_s` seconds. Empty buckets are left out.")
    moving: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list,
        description="Buckets holding frames found moving (the activity worker's motion scores), ascending, each "
                    "`[n, moving frames]`, numbered as `buckets`. The span's motion events are "
                    "`GET /cameras/{camera_id}/motion-events` with the same `since` and `until`.")
