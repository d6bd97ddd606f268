"""A camera's activity settings, as its owner sets them: motion sensitivity, ignore zones,
the quiet seconds that end an event, "keep what matters" and when the camera counts as
offline. The api keeps them with the camera (`api_cameras`) and publishes them with its
login on `sensr.cameras` (`sensr.cameras.CameraLogin` has the same fields and defaults),
where the activity worker and the retention sweep read them.

`validate_activity` is the one check for the JSON API and the web UI alike: it returns
the changes cleaned (zones as tuples of floats) or raises InvalidInput saying, in words a
person can act on, which value is wrong and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from api.errors import InvalidInput

Zone = tuple[float, float, float, float]
"""(left, top, right, bottom) in fractions of the frame: 0 <= left < right <= 1, same for top/bottom."""

SENSITIVITY = (1, 10)
DEFAULT_SENSITIVITY = 5
MAX_ZONES = 16
EVENT_GAP_SECONDS = (1.0, 3600.0)
UNMOVING_KEEP_HOURS = (1, 8760)
OFFLINE_MINUTES = (1, 10080)
FIELDS = ("sensitivity", "ignore_zones", "event_gap_seconds", "keep_what_matters", "unmoving_keep_hours",
          "offline_minutes")
ZONE_EDGES = ("left", "top", "right", "bottom")


def validate_activity(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The activity settings among `changes`, checked and cleaned; other keys are left out.
    Raises InvalidInput naming every wrong value."""
    problems: list[str] = []
    cleaned: dict[str, Any] = {}
    checks = {"sensitivity": lambda v: _integer(v, "sensitivity", *SENSITIVITY),
              "ignore_zones": _zones,
              "event_gap_seconds": lambda v: _number(v, "event_gap_seconds", *EVENT_GAP_SECONDS),
              "keep_what_matters": _flag,
              "unmoving_keep_hours": lambda v: _integer(v, "unmoving_keep_hours", *UNMOVING_KEEP_HOURS),
              "offline_minutes": lambda v: _integer(v, "offline_minutes", *OFFLINE_MINUTES)}
    for name, check in checks.items():
        if name in changes:
            try:
                cleaned[name] = check(changes[name])
            except ValueError as error:
                problems.append(str(error))
    if problems:
        raise InvalidInput("; ".join(problems))
    return cleaned


def zone_as_dict(zone: Sequence[float]) -> dict[str, float]:
    return dict(zip(ZONE_EDGES, (float(edge) for edge in zone), strict=True))


def _integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")
    return value


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be a number of seconds from {low:g} to {high:g}")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("keep_what_matters must be true or false")
    return value


def _zones(value: Any) -> tuple[Zone, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError("ignore_zones must be a list of rectangles")
    if len(value) > MAX_ZONES:
        raise ValueError(f"ignore_zones holds at most {MAX_ZONES} rectangles")
    zones = []
    for number, zone in enumerate(value, start=1):
        edges = [zone.get(edge) for edge in ZONE_EDGES] if isinstance(zone, Mapping) else zone
        if not isinstance(edges, list | tuple) or len(edges) != 4 or not all(
                isinstance(edge, int | float) and not isinstance(edge, bool) and math.isfinite(edge) for edge in edges):
            raise ValueError(f"ignore zone {number} must have numbers left, top, right and bottom")
        left, top, right, bottom = (float(edge) for edge in edges)
        if not (0.0 <= left < right <= 1.0 and 0.0 <= top < bottom <= 1.0):
            raise ValueError(f"ignore zone {number} must lie inside the frame, in fractions of its width and "
                             "height (0 to 1), with left < right and top < bottom")
        zones.append((left, top, right, bottom))
    return tuple(zones)
