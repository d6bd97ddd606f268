"""Waiting on state instead of sleeping for a guessed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], timeout: float = 60.0, interval: float = 0.2,
               what: str | Callable[[], str] = "") -> T:
    """`probe()`'s first truthy result, retried until `timeout` passes; then AssertionError
    with the last result (and `what`, or what `what()` says then)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"{said or 'condition'}: still {result!r} after {timeout:g} s")
        time.sleep(interval)
