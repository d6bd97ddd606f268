"""The JSON bodies of API v1: request models validate what clients send, response
models shape what they get back; `api.v1.openapi` publishes the schemas of both, so the
document cannot drift from what the handlers accept and return.

Optional response fields are left out, not null, when they do not apply (the owner-only
pieces of a camera, the one-time token of a share).
"""

from __future__ import annotations

from typing import Annotated

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
