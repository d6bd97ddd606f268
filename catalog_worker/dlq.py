"""Dead letters: records of `sensr.frames` that can never be stored, and how they are kept.

A dead letter is the original record unchanged (key, JPEG bytes, headers, so it can be
inspected or replayed into `sensr.frames`) plus headers saying why and where it came from:

- `dlq-kind`: `bad_event` (missing or malformed frame-event headers or key, a control
  character in a name, a frame id that is not a ULID), `too_large` (over `SENSR_MAX_FRAME_BYTES`), `unknown_camera`
  (deleted or never registered, after the camera table caught up), `bad_jpeg` (refused
  by `sensr.frame_check.check_frame`: a coding or size the worker cannot decode, over
  `SENSR_MAX_FRAME_PIXELS`), `index_refused` (the index database refuses a value of the
  record, and would on every retry);
- `dlq-reason`: a human-readable explanation;
- `dlq-origin`: `<topic>/<partition>/<offset>` of the original record.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog_worker.message import KafkaPayload, Message
from sensr.frames import Headers

H_KIND = "dlq-kind"
H_REASON = "dlq-reason"
H_ORIGIN = "dlq-origin"
KINDS = frozenset({"bad_event", "too_large", "unknown_camera", "bad_jpeg", "index_refused"})


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: Message[KafkaPayload]
    """The original record, as consumed."""
    kind: str
    reason: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown dead-letter kind {self.kind!r}")

    def key(self) -> bytes | None:
        return self.message.payload.key

    def value(self) -> bytes | None:
        return self.message.payload.value

    def headers(self) -> Headers:
        ours = {H_KIND, H_REASON, H_ORIGIN}
        kept = [(name, raw) for name, raw in self.message.payload.headers if name not in ours]
        return [*kept, (H_KIND, self.kind.encode()), (H_REASON, self.reason.encode()),
                (H_ORIGIN, self.message.origin.encode())]
