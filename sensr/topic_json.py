"""The JSON values of Sensr's own event topics (`sensr.catalog`, `sensr.activity`): one
JSON object per record, its schema version in `v`. The checks every reader makes before
it looks at a contract's fields are made here once; each contract module reads its own
fields from what this returns."""

from __future__ import annotations

import json
from typing import Any


def decode_versioned(value: bytes | None, version: int, what: str, error: type[ValueError]) -> dict[str, Any]:
    """The fields of the JSON object `value` (without `v`) when it is of schema `version`;
    otherwise raises `error` saying what is wrong, `what` naming the record ("catalog event")."""
    if value is None:
        raise error(f"empty {what}")
    try:
        body = json.loads(value)
    except ValueError as bad:
        raise error(f"{what} is not JSON: {bad}") from None
    if not isinstance(body, dict):
        raise error(f"{what} is not a JSON object: {value[:80]!r}")
    if body.pop("v", None) != version:
        raise error(f"unsupported {what} version in {value[:80]!r}")
    return body
