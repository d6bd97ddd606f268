"""What the notifier's channel tests share: an alert to send, and a JPEG to attach."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from PIL import Image

from notifier.message import Alert, AlertKind


def key_frame() -> bytes:
    """A small real JPEG with some texture, so its bytes are not trivially regular."""
    image = Image.effect_noise((64, 48), 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def motion_alert(frame: bytes | None = None) -> Alert:
    """Motion on "Front door" at 13:02 UTC, which is 14:02 for its owner in Berlin."""
    return Alert(camera_id="cam_01", camera_name="Front door", kind=AlertKind.MOTION_START,
                 at=datetime(2026, 12, 4, 13, 2, 7, tzinfo=timezone.utc), time_zone=ZoneInfo("Europe/Berlin"),
                 link="https://sensr.example/cameras/cam_01/events/ev_1", event_id="ev_1",
                 key_frame=frame if frame is not None else key_frame())
