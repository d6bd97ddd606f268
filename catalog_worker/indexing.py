"""The index step of a batch: add the stored frames' rows, and single out any row the
database refuses, so that one poison record is dead-lettered instead of stalling every
camera behind it.

The batch is inserted in one transaction. If the database refuses a value
(`errors.RecordRefused`), the batch is split in halves and each half inserted on its
own, down to the refused rows: a batch of n rows with k refused ones costs about
2·k·log2(n) transactions, and only in that rare case. Halves that succeed are
committed at once; that is safe because inserts are keyed by frame id (a redone batch
adds nothing twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from catalog_worker.errors import RecordRefused, index_errors
from sensr.index import FrameIndex, FrameRecord


@dataclass
class Indexed:
    """What became of a batch's rows."""

    inserted: int = 0
    """Rows newly inserted (the others were there already: a re-delivery)."""
    refused: list[tuple[FrameRecord, str]] = field(default_factory=list)
    """Rows the database refuses, with its reason."""


def add_to_index(index: FrameIndex, records: Sequence[FrameRecord]) -> Indexed:
    """Insert `records`; rows the database refuses are left out and reported. Raises
    TransientError if the database is unavailable (the caller redoes the batch)."""
    outcome = Indexed()
    _add(index, records, outcome)
    return outcome


def _add(index: FrameIndex, records: Sequence[FrameRecord], outcome: Indexed) -> None:
    if not records:
        return
    try:
        with index_errors():
            outcome.inserted += index.add(records)
    except RecordRefused as refused:
        if len(records) == 1:
            outcome.refused.append((records[0], str(refused)))
            return
        middle = len(records) // 2
        _add(index, records[:middle], outcome)
        _add(index, records[middle:], outcome)
