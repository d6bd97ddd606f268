"""Instants in query parameters: ISO 8601 or epoch seconds, to microseconds and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.errors import InvalidInput
from api.times import format_instant, parse_instant

MAX_US = 253_402_300_799_999_999
instants = st.integers(min_value=0, max_value=MAX_US)


@given(instants)
def test_formatted_instants_parse_back(timestamp_us: int) -> None:
    assert parse_instant(format_instant(timestamp_us), "since") == timestamp_us


@given(instants)
def test_epoch_seconds_with_fractions_are_exact(timestamp_us: int) -> None:
    seconds, micros = divmod(timestamp_us, 1_000_000)
    assert parse_instant(f"{seconds}.{micros:06d}", "since") == timestamp_us


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T14:30:00Z", 1_795_617_000_000_000),
    ("2026-11-25T15:30:00+01:00", 1_795_617_000_000_000),
    ("2026-11-25T14:30:00", 1_795_617_000_000_000),  # no offset: UTC
    ("2026-11-25", 1_795_564_800_000_000),
    ("1795617000", 1_795_617_000_000_000),
    ("1795617000.25", 1_795_617_000_250_000),
    (" 0 ", 0),
])
def test_accepted_spellings(text: str, expected: int) -> None:
    assert parse_instant(text, "since") == expected


@pytest.mark.parametrize("text", ["", "yesterday", "-5", "1e9", "2026-13-01", "0001-01-01", "9" * 400,
                                  "9999-12-31T23:59:59-01:00"])
def test_rejected_spellings_name_the_parameter(text: str) -> None:
    with pytest.raises(InvalidInput, match="until"):
        parse_instant(text, "until")
