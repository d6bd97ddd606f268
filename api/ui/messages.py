"""Error texts as a person reads them on a page.

The application layer names the wrong value as its API field (`event_gap_seconds must be
a number of seconds from 1 to 3600`), which is right for JSON clients. A page says it
with the field's human name and a capital letter (`Event gap (seconds) must be ...`).
Every page shows errors through `human_message` (the error box of `base.html` and the
error page of `PageHandler.write_error`), so the wording is decided here only.
"""

from __future__ import annotations

import re

FIELD_LABELS = {
    "event_gap_seconds": "Event gap (seconds)",
    "unmoving_keep_hours": "Keep frames without motion (hours)",
    "offline_minutes": "Offline after (minutes)",
    "ignore_zones": "Ignore zones",
    "keep_what_matters": "Keep what matters",
    "retention_days": "Keep frames for (days)",
    "time_zone": "Time zone",
    "spacing_seconds": "Spacing (seconds)",
    "quiet_start": "Quiet hours start",
    "quiet_end": "Quiet hours end",
    "max_width": "Maximum width",
    "max_height": "Maximum height",
}
"""API field names (snake_case) and how a form calls them."""

_FIELD = re.compile(r"\b(?:" + "|".join(FIELD_LABELS) + r")\b")
_PROBLEMS = "; "  # several problems at once, as `api.activity_settings.validate_activity` joins them


def human_message(text: str) -> str:
    """`text` with every API field name in its human name, each problem starting with a
    capital letter."""
    named = _FIELD.sub(lambda match: FIELD_LABELS[match[0]], text)
    return _PROBLEMS.join(part[:1].upper() + part[1:] for part in named.split(_PROBLEMS))
