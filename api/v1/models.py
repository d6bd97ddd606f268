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
    hours: list[HourCount] = Field(description="Hours holding frames, ascending; empty hours are left out.")
    time_zone: str | Absent = Field(None, description="With `tz`: the zone days are counted in.")
    days: list[DayCount] | Absent = Field(None, description="With `tz`: local days holding frames, ascending.")


class ShareOut(BaseModel):
    id: str
    camera_id: str
    label: str | None
    created: str
    token: str | Absent = Field(None, description="Only in the answer to POST: the share token.")
    url: str | Absent = Field(None, description="Only in the answer to POST: the camera's URL with the token.")


class ShareList(BaseModel):
    shares: list[ShareOut]


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
