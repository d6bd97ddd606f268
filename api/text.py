"""The one rule for text a user submits that the api stores or looks up: no control
characters.

A control character (Unicode category Cc: C0, DEL and C1, e.g. NUL) is never part of an
e-mail address, a camera name, a share label or an id, and PostgreSQL cannot even hold
NUL in a text column: such a value must be refused as a client's mistake (400) before it
reaches the database, not fail there. Passwords are exempt: they are only ever hashed.
"""

from __future__ import annotations

import re

from api.errors import InvalidInput

PLAIN_TEXT_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
"""The rule as a regular expression valid in both Python and JSON Schema (ECMA-262)."""

_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f]")


def is_plain(text: str) -> bool:
    """True when `text` holds no control character."""
    return _CONTROL.search(text) is None


def plain_text(text: str, field: str) -> str:
    """`text` itself; raises InvalidInput naming `field` when it holds a control character."""
    if not is_plain(text):
        raise InvalidInput(f"{field} must not contain control characters")
    return text
