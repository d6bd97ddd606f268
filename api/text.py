"""The one rule for text a user submits that the api stores or looks up: no control
characters.

A control character (Unicode category Cc: C0, DEL and C1, e.g. NUL) is never part of an
e-mail address, a camera name, a share label or an id, and PostgreSQL cannot even hold
NUL in a text column: such a value must be refused as a client's mistake (400) before it
reaches the database, not fail there. Passwords are exempt: they are only ever hashed.
"""

from __future__ import annotations

from api.errors import InvalidInput
from sensr.text import PLAIN_TEXT_PATTERN, has_control_characters

__all__ = ["PLAIN_TEXT_PATTERN", "is_plain", "plain_text"]


def is_plain(text: str) -> bool:
    """True when `text` holds no control character (`sensr.text`'s rule)."""
    return not has_control_characters(text)


def plain_text(text: str, field: str) -> str:
    """`text` itself; raises InvalidInput naming `field` when it holds a control character."""
    if not is_plain(text):
        raise InvalidInput(f"{field} must not contain control characters")
    return text
