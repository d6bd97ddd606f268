"""File and folder names: which the FTP edge refuses (`name_refusal`), and what an
uploaded file's name says: its final name (cameras that upload under a temporary name
and rename) and the camera's own clock (names with a timestamp)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sensr.text import first_control_character

TEMPORARY_SUFFIXES = (".part", ".tmp")

# Fourteen digits YYYYMMDDhhmmss (`SensrCam2010102011073001.jpg`, Reolink, Hikvision), then
# optional hundredths (the seed's form) or milliseconds; the digits may not run on.
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2,3})?(?!\d)")
# YYYY-MM-DD_hh-mm-ss and the like (also YYYYMMDD_hhmmss, and a date folder: 2026-11-24/10-15-30).
_SEPARATED = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})[_ T/-](\d{2})[-:.]?(\d{2})[-:.]?(\d{2})(?!\d)")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def name_refusal(name: str) -> str | None:
    """Why a file or folder name (a command's argument, as decoded) is refused, or None.

    Names with control characters are refused: no camera writes one, a NUL cannot be
    stored in a PostgreSQL text column (the index would refuse the frame after its `226`),
    and the others corrupt listings and whatever shows the name later. C1 (U+0080-U+009F)
    is included: it reaches here only UTF-8 encoded, and is as invisible as C0. Bytes
    that are not UTF-8 arrive as U+FFFD, which is harmless.
    """
    found = first_control_character(name)
    if found is None:
        return None
    return f"the name contains the control character U+{ord(found):04X}"


def final_name(path: str) -> str:
    """The name a file will have once the camera renames it: `a.jpg.part` -> `a.jpg`."""
    lowered = path.lower()
    for suffix in TEMPORARY_SUFFIXES:
        if lowered.endswith(suffix) and len(path) > len(suffix):
            return path[: -len(suffix)]
    return path


def is_temporary(path: str) -> bool:
    return final_name(path) != path


def camera_time_us(path: str) -> int | None:
    """The time a file name carries, in microseconds since the epoch, or None.

    Cameras write their local wall-clock time without a zone, so it is read as if it were
    UTC: the value is the camera's own clock, kept beside the Sensr timestamp, not a
    corrected instant. The rightmost timestamp wins (a file name after its date folder).
    """
    for pattern in (_COMPACT, _SEPARATED):
        for found in reversed(list(pattern.finditer(path))):
            stamp = _to_us(found.groups())
            if stamp is not None:
                return stamp
    return None


def _to_us(groups: tuple[str | None, ...]) -> int | None:
    year, month, day, hour, minute, second = (int(g or 0) for g in groups[:6])
    fraction = groups[6] if len(groups) > 6 else None
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    if not 1990 <= year <= 2200:
        return None
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micros
