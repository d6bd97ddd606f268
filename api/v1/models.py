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

    @model_validator(mode="after")
    def _not_null(self) -> CameraPatch:
        for name in ("name", "public", "enabled"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may be left out but not null")
        return self

    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ShareCreate(_Request):
    label: str | None = Field(None, max_length=MAX_LABEL_LENGTH, description="A note for the owner, e.g. who got it.",
                              json_schema_extra=PLAIN)


class Error(BaseModel):
    error: str = Field(description="A stable code, e.g. `not_found`, `invalid_input`, `rate_limited`.")
    message: str = Field(description="What went wrong, for people.")


class UserOut(BaseModel):
    id: str
    email: str
    created: str = Field(description="ISO 8601, UTC.")


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
    host: str | Absent = Field(None, description="Owner only: the upload HOST.")
    username: str | Absent = Field(None, description="Owner only: the upload USERNAME.")
    password: str | Absent = Field(None, description="Owner only: the upload PASSWORD.")
    upload_urls: UploadUrls | Absent = Field(None, description="Owner only.")


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


class CalendarOut(BaseModel):
    camera_id: str
    since: str
    until: str
    total: int
    hours: list[HourCount] = Field(description="Hours holding frames, ascending; empty hours are left out.")


class ShareOut(BaseModel):
    id: str
    camera_id: str
    label: str | None
    created: str
    token: str | Absent = Field(None, description="Only in the answer to POST: the share token.")
    url: str | Absent = Field(None, description="Only in the answer to POST: the camera's URL with the token.")


class ShareList(BaseModel):
    shares: list[ShareOut]


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
    buckets: list[tuple[int, int, str, int]] = Field(
        description="Buckets holding frames, ascending, each `[n, frames, first frame id, first frame µs]`; "
                    "bucket n starts at `since_us + n * step_s` seconds. Empty buckets are left out.")
