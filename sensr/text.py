"""The one rule for names and text that Sensr stores, indexes or logs: no control characters.

A control character (Unicode category Cc: C0, DEL and C1, e.g. NUL, CR, LF, ESC) is never
part of a camera name, a file name, an e-mail address or a label. PostgreSQL cannot even
hold NUL in a text column, and the others corrupt Kafka headers, listings, logs and
whatever shows the name later. So every edge and the api refuse such text before it goes
further, and the catalog worker refuses an event carrying one. C1 (U+0080-U+009F) is
included: it arrives only encoded (UTF-8) and is as invisible as C0.
"""

from __future__ import annotations

import re

PLAIN_TEXT_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
"""The rule as a regular expression valid in both Python and JSON Schema (ECMA-262)."""

_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f]")


def first_control_character(text: str) -> str | None:
    """The first control character in `text`, or None when there is none."""
    found = _CONTROL.search(text)
    return None if found is None else found.group()


def has_control_characters(text: str) -> bool:
    """True if `text` holds a control character (C0, DEL or C1)."""
    return _CONTROL.search(text) is not None
