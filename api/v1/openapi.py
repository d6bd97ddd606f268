"""The OpenAPI 3.1 document of API v1, served at `/api/v1/openapi.json`.

Operations are listed here by hand (what a reader of the API needs: parameters,
credentials, answers); their body schemas come from `api.v1.models`, the same models the
handlers validate and answer with. A test checks that the paths and methods here are
exactly the routes of `api.v1.routes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.v1 import models

DESCRIPTION = """\
Sensr: cameras upload JPEGs with their own upload logins (FTP, HTTP photo, MJPEG stream);
people manage the cameras and view the frames here.

Credentials: `bearer` for users (a token from POST /api/v1/tokens); a share link's token as
the `share` query parameter (`shareQuery`, works in <img> tags) or the `X-Sensr-Share`
header (`shareHeader`). Read routes of a public camera need no credentials. A camera that
is neither yours, public nor shared with you answers 404.

Instants (`since`, `until`): ISO 8601 (`2026-11-25T14:30:00Z`; a date means midnight UTC;
no offset means UTC, or the `tz` parameter's zone where given) or seconds since the Unix
epoch (`1795617000`, fractions allowed).
Answers give instants as ISO 8601 UTC strings, and frame times also in microseconds.

Errors: a JSON object `{"error": code, "message": text}` with the HTTP status."""

Access = Literal["none", "user", "read"]
Answer = type[BaseModel] | str
"""A response: the model of its JSON body, or a description of a body-less/non-JSON one."""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    access: Access
    answers: dict[int, Answer]
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: tuple[dict[str, Any], ...] = ()
    description: str = ""
    content_type: str = "application/json"
    """The media type of the 2xx answer when it is not described by a model."""
    errors: tuple[int, ...] = ()


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_INSTANT = {"type": "string", "examples": ["2026-11-25T14:30:00Z", "1795617000"]}
_TIME_RANGE = (
    _query("since", "Earliest instant, inclusive: ISO 8601 or epoch seconds.", _INSTANT),
    _query("until", "Latest instant, exclusive: ISO 8601 or epoch seconds.", _INSTANT),
    _query("tz", "IANA time zone (`Europe/Berlin`) for dates and date-times without an offset in since and until "
                 "(default UTC); the calendar also counts local days in it.", {"type": "string",
                                                                             "examples": ["Europe/Berlin"]}),
)
_PAGING = (
    *_TIME_RANGE,
    _query("limit", "Frames per page (default 100).", {"type": "integer", "minimum": 1, "maximum": 1000}),
    _query("cursor", "`next_cursor` of the previous page.", {"type": "string"}),
    _query("order", "`asc` (oldest first, default) or `desc`.", {"type": "string", "enum": ["asc", "desc"]}),
)
_FRAME_FILTERS = (
    _query("moving", "`true`: only frames found moving.", {"type": "string", "enum": ["true", "false"]}),
    _query("min_score", "Only frames whose motion score is at least this (0-100).",
           {"type": "number", "minimum": 0, "maximum": 100}),
)
_EVENT_PAGING = (
    *_TIME_RANGE,
    _query("limit", "Events per page (default 50).", {"type": "integer", "minimum": 1, "maximum": 500}),
    _query("cursor", "`next_cursor` of the previous page.", {"type": "string"}),
    _query("order", "`desc` (newest first, default) or `asc`.", {"type": "string", "enum": ["asc", "desc"]}),
)
_CAMERA = "/cameras/{camera_id}"
_FRAME = _CAMERA + "/frames/{frame_id}"
_CLIP = _CAMERA + "/clips/{clip_id}"
_CLIP_ACCESS = "For the owner, and for holders of a share link that allows clips (403 for other readers)."
_JPEG = "The JPEG bytes (ETag from the frame id; cacheable for a year, immutable)."

OPERATIONS: tuple[Operation, ...] = (
    Operation("post", "/users", "Sign up", "none", {201: models.UserOut}, body=models.Credentials,
              errors=(400, 409),
              description="E-mail addresses are normalised (trimmed, lower-cased); passwords need the "
                          "configured minimum length."),
    Operation("post", "/tokens", "Log in: get a bearer token", "none", {201: models.TokenOut},
              body=models.Credentials, errors=(400, 401, 429),
              description="Failed logins are limited per client address and per account (429 with Retry-After)."),
    Operation("delete", "/tokens/current", "Log out: revoke the token of this request", "user",
              {204: "Revoked."}, errors=(401,)),
    Operation("get", "/me", "The logged-in user", "user", {200: models.UserOut}, errors=(401,)),
    Operation("get", "/cameras", "The caller's cameras (with their upload logins)", "user",
              {200: models.CameraList}, errors=(401,)),
    Operation("post", "/cameras", "Create a camera and allocate its upload login", "user",
              {201: models.CameraOut}, body=models.CameraCreate, errors=(400, 401, 503),
              description="The login is known to the upload hosts when this answers."),
    Operation("get", _CAMERA, "A camera", "read", {200: models.CameraOut}, errors=(401, 404),
              description="The owner also gets host, username, password and upload_urls."),
    Operation("patch", _CAMERA, "Change a camera", "user", {200: models.CameraOut}, body=models.CameraPatch,
              errors=(400, 401, 403, 404, 503)),
    Operation("delete", _CAMERA, "Delete a camera and its upload login", "user", {204: "Deleted."},
              errors=(401, 403, 404, 503)),
    Operation("post", _CAMERA + "/password", "Rotate the upload password", "user", {200: models.CameraOut},
              errors=(401, 403, 404, 503), description="The old password stops working when this answers."),
    Operation("get", _CAMERA + "/frames", "Frames by time, paged", "read", {200: models.FramePageOut},
              query=_PAGING + _FRAME_FILTERS, errors=(400, 401, 404),
              description="Each frame carries its motion score once the activity worker scored it; `moving` "
                          "and `min_score` leave out frames not scored yet."),
    Operation("get", _CAMERA + "/frames/latest", "The latest frame", "read", {200: models.FrameOut},
              errors=(401, 404)),
    Operation("get", _FRAME, "A frame's metadata", "read", {200: models.FrameOut}, errors=(401, 404)),
    Operation("get", _FRAME + "/image", "A frame's JPEG", "read", {200: _JPEG, 304: "Not modified."},
              content_type="image/jpeg", errors=(401, 404, 503)),
    Operation("get", _FRAME + "/thumbnail", "A frame's thumbnail JPEG", "read", {200: _JPEG, 304: "Not modified."},
              content_type="image/jpeg", errors=(401, 404, 503)),
    Operation("get", _CAMERA + "/calendar", "Frames per UTC hour", "read", {200: models.CalendarOut},
              query=_TIME_RANGE, errors=(400, 401, 404),
              description="Default range: the 31 days before `until` (default: now); at most 366 days."),
    Operation("get", _CAMERA + "/live.mjpg", "Live view as MJPEG", "read",
              {200: "multipart/x-mixed-replace: one JPEG part per frame, as uploaded; works in an <img> tag."},
              content_type="multipart/x-mixed-replace", errors=(401, 404, 503)),
    Operation("get", _CAMERA + "/events", "Frame-stored events and activity (Server-Sent Events)", "read",
              {200: "text/event-stream: `event: frame`, `id: <frame id>`, `data: <frame JSON>` for each stored "
                    "frame; `event: activity`, `id: <record id>`, `data: <ActivityMessage JSON>` for each motion "
                    "event's start, update and end."},
              content_type="text/event-stream", errors=(401, 404, 503)),
    Operation("get", _CAMERA + "/motion-events", "Motion events by start time, paged", "read",
              {200: models.EventPageOut}, query=_EVENT_PAGING, errors=(400, 401, 404)),
    Operation("get", _CAMERA + "/motion-events/{event_id}", "A motion event with its frames", "read",
              {200: models.EventDetailOut},
              query=(_query("limit", "Frames at most (default 500).",
                            {"type": "integer", "minimum": 1, "maximum": 1000}),),
              errors=(400, 401, 404)),
    Operation("get", _CAMERA + "/shares", "The camera's share links", "user", {200: models.ShareList},
              errors=(401, 403, 404)),
    Operation("post", _CAMERA + "/shares", "Create a share link", "user", {201: models.ShareOut},
              body=models.ShareCreate, body_required=False, errors=(400, 401, 403, 404),
              description="The answer's token and url are shown only this once."),
    Operation("delete", _CAMERA + "/shares/{share_id}", "Revoke a share link", "user", {204: "Revoked."},
              errors=(401, 403, 404)),
    Operation("get", _CAMERA + "/clips", "The camera's clips and time-lapses, newest first", "read",
              {200: models.ClipList}, errors=(401, 403, 404), description=_CLIP_ACCESS),
    Operation("post", _CAMERA + "/clips", "Ask for a clip or time-lapse (rendered in the background)", "read",
              {202: models.ClipOut}, body=models.ClipCreate, errors=(400, 401, 403, 404, 503),
              description="Answers at once with the queued clip (its URL in `Location`); its state and progress "
                          "follow at that URL and as `event: clip` on the camera's event stream. " + _CLIP_ACCESS),
    Operation("get", _CLIP, "A clip: state, progress, result", "read", {200: models.ClipOut},
              errors=(401, 403, 404), description=_CLIP_ACCESS),
    Operation("delete", _CLIP, "Delete a clip and its MP4 (cancelling it if unfinished)", "read",
              {204: "Deleted."}, errors=(401, 403, 404, 503), description=_CLIP_ACCESS),
    Operation("post", _CLIP + "/cancel", "Cancel a queued or rendering clip", "read", {200: models.ClipOut},
              errors=(401, 403, 404, 503), description=_CLIP_ACCESS),
    Operation("get", _CLIP + "/video.mp4", "The clip's MP4", "read",
              {200: "The MP4 (H.264, yuv420p, faststart).", 206: "The requested byte range (`Range: bytes=a-b`)."},
              content_type="video/mp4", errors=(401, 403, 404, 503),
              query=(_query("download", "`1`: as an attachment with a file name.", {"type": "string"}),),
              description="Single byte ranges are served, so players can seek. " + _CLIP_ACCESS),
    Operation("get", "/openapi.json", "This document", "none", {200: "The OpenAPI 3.1 document."}),
    Operation("get", _CAMERA + "/alerts", "The camera's alert rules", "user", {200: models.AlertRuleList},
              errors=(401, 403, 404), description="Owner only; webhook rules include their signing secret."),
    Operation("post", _CAMERA + "/alerts", "Create an alert rule", "user", {201: models.AlertRuleOut},
              body=models.AlertRuleCreate, errors=(400, 401, 403, 404, 503),
              description="The notifier has the rule when this answers. Webhooks are signed following Standard "
                          "Webhooks with the rule's `secret`; their JSON body is `{type, timestamp, data: "
                          "{camera_id, camera_name, event_id, at, title, text, link, summary?}}`."),
    Operation("get", _CAMERA + "/alerts/deliveries", "The camera's alert deliveries, newest first", "user",
              {200: models.DeliveryList}, errors=(400, 401, 403, 404),
              query=(_query("limit", "Deliveries to list (default 100).",
                            {"type": "integer", "minimum": 1, "maximum": 1000}),)),
    Operation("get", _CAMERA + "/alerts/{rule_id}", "An alert rule", "user", {200: models.AlertRuleOut},
              errors=(401, 403, 404)),
    Operation("patch", _CAMERA + "/alerts/{rule_id}", "Change an alert rule", "user", {200: models.AlertRuleOut},
              body=models.AlertRulePatch, errors=(400, 401, 403, 404, 503)),
    Operation("delete", _CAMERA + "/alerts/{rule_id}", "Delete an alert rule", "user", {204: "Deleted."},
              errors=(401, 403, 404, 503)),
    Operation("post", _CAMERA + "/alerts/{rule_id}/test", "Send a test alert", "user", {202: models.DeliveryOut},
              errors=(401, 403, 404), description="Queued for the notifier; the delivery log shows the outcome."),
    Operation("get", _FRAME + "/download", "A frame's JPEG as a file to save", "read",
              {200: "The JPEG bytes with `Content-Disposition: attachment` (named after the camera and the "
                    "frame's UTC timestamp).", 304: "Not modified."},
              content_type="image/jpeg", errors=(401, 404, 503)),
    Operation("get", _CAMERA + "/frames.zip", "Frames of a time range as one zip", "read",
              {200: "A zip (entries stored uncompressed, named by UTC timestamp), streamed as it is built, with "
                    "its Content-Length known in advance. A frame removed while the zip streams cuts the "
                    "body short (the length does not match), never a wrong zip."},
              query=tuple({**parameter, "required": parameter["name"] != "tz"} for parameter in _TIME_RANGE),
              content_type="application/zip", errors=(400, 401, 404, 503),
              description="`since` and `until` are required; at most 366 days and SENSR_ZIP_MAX_FRAMES frames."),
    Operation("delete", _FRAME, "Delete a frame", "user", {204: "Deleted: its images, then its index row."},
              errors=(401, 403, 404, 503)),
    Operation("delete", _CAMERA + "/frames", "Delete the frames of a time range", "user",
              {200: models.FramesDeletedOut},
              query=tuple({**parameter, "required": parameter["name"] != "tz"} for parameter in _TIME_RANGE),
              errors=(400, 401, 403, 404, 503),
              description="Images first, then index rows; the calendar's counts follow at once."),
    Operation("patch", "/me", "Choose a time zone", "user", {200: models.UserOut}, body=models.MePatch,
              errors=(400, 401)),
    Operation("delete", "/me", "Close the account", "user", {200: models.AccountDeletedOut},
              body=models.AccountDelete, errors=(400, 401, 503),
              description="Its cameras (as DELETE /cameras/{id} does: share links, upload login, frames and "
                          "images), its sessions and tokens go; the e-mail address is freed."),
    Operation("post", "/me/password", "Change the password", "user", {204: "Changed."},
              body=models.PasswordChange, errors=(400, 401),
              description="Every other session and token of the user ends; the token of this request stays."),
    Operation("get", "/me/tokens", "The user's sessions and tokens", "user", {200: models.TokenList},
              errors=(401,)),
    Operation("delete", "/me/tokens", "Sign out everywhere", "user", {204: "Every session and token ended."},
              errors=(401,)),
    Operation("delete", "/me/tokens/{token_id}", "Revoke a session or token", "user", {204: "Revoked."},
              errors=(401, 404)),
    Operation("get", _CAMERA + "/status", "The camera's status now", "read", {200: models.CameraStatusOut},
              errors=(401, 404), description="Latest frame and its age, online/offline, frames in the last hour."),
    Operation("get", _CAMERA + "/timeline", "Frame density of a span, in buckets", "read",
              {200: models.TimelineOut}, errors=(400, 401, 404),
              query=(*_TIME_RANGE, _query("step", "Bucket width in seconds (default 60).",
                                          {"type": "integer", "minimum": 1, "maximum": 86400})),
              description="Default span: the day before `until` (default: now); at most 4,000 buckets. "
                          "Only buckets holding frames are listed, each with its first frame."),
    Operation("get", _CAMERA + "/timeline/frame", "The frame shown at an instant", "read", {200: models.FrameOut},
              query=(_query("at", "The instant: ISO 8601 or epoch seconds (required).", _INSTANT),),
              errors=(400, 401, 404),
              description="The last frame taken at or before `at`; when there is none, the first after it."),
)

_ERROR_TEXT = {400: "Invalid input.", 401: "No valid credentials.", 403: "Not the owner.",
               404: "No such resource, or not visible to the caller.", 409: "Already taken.",
               416: "The range is outside the content.",
               429: "Too many failed attempts.", 503: "A dependency did not answer; nothing changed."}
_SECURITY: dict[Access, list[dict[str, list[str]]]] = {
    "none": [],
    "user": [{"bearer": []}],
    "read": [{"bearer": []}, {"shareQuery": []}, {"shareHeader": []}, {}],
}


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document (built once)."""
    used = {op.body for op in OPERATIONS if op.body} | {answer for op in OPERATIONS for answer in op.answers.values()
                                                         if isinstance(answer, type)}
    refs, defs = models_json_schema(
        [(model, "validation" if model in {op.body for op in OPERATIONS} else "serialization")
         for model in sorted(used | {models.Error, models.ActivityMessage}, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}")
    schema_of = {model: ref for (model, _mode), ref in refs.items()}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault("/api/v1" + op.path, {})[op.method] = _operation(op, schema_of)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sensr API", "version": "1",
                 "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/tokens."},
                "shareQuery": {"type": "apiKey", "in": "query", "name": "share",
                               "description": "A share link's token: read access to one camera."},
                "shareHeader": {"type": "apiKey", "in": "header", "name": "X-Sensr-Share",
                                "description": "The same, as a header."},
            },
        },
    }


def _operation(op: Operation, schema_of: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    names = [segment[1:-1] for segment in op.path.split("/") if segment.startswith("{")]
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names]
    result: dict[str, Any] = {
        "operationId": f"{op.method}{op.path}".replace("/", "_").replace("{", "").replace("}", "").replace(".", "_"),
        "summary": op.summary,
        "parameters": parameters + list(op.query),
        "security": _SECURITY[op.access],
        "responses": {},
    }
    if op.description:
        result["description"] = op.description
    if op.body is not None:
        result["requestBody"] = {"required": op.body_required,
                                 "content": {"application/json": {"schema": schema_of[op.body]}}}
    for status, answer in op.answers.items():
        if isinstance(answer, type):
            result["responses"][str(status)] = {"description": answer.__doc__ or answer.__name__,
                                                "content": {"application/json": {"schema": schema_of[answer]}}}
        elif status in (200, 206):
            body = {"type": "string", "format": "binary"} if op.content_type != "application/json" else {}
            result["responses"][str(status)] = {"description": answer, "content": {op.content_type: {"schema": body}}}
        else:
            result["responses"][str(status)] = {"description": answer}
    for status in op.errors:
        result["responses"][str(status)] = {"description": _ERROR_TEXT[status],
                                            "content": {"application/json": {"schema": schema_of[models.Error]}}}
    return result
