"""The one check of a camera's activity settings (`api.activity_settings`), pure."""

from __future__ import annotations

import pytest

from api.activity_settings import MAX_ZONES, validate_activity
from api.errors import InvalidInput


def test_good_values_are_cleaned_and_other_keys_left_out() -> None:
    cleaned = validate_activity({"name": "kept out", "sensitivity": 10, "event_gap_seconds": 5,
                                 "ignore_zones": [{"left": 0, "top": 0.5, "right": 1, "bottom": 1}, [0.1, 0.1, 0.2, 0.2]],
                                 "keep_what_matters": True, "unmoving_keep_hours": 1, "offline_minutes": 10080})
    assert cleaned == {"sensitivity": 10, "event_gap_seconds": 5.0,
                       "ignore_zones": ((0.0, 0.5, 1.0, 1.0), (0.1, 0.1, 0.2, 0.2)),
                       "keep_what_matters": True, "unmoving_keep_hours": 1, "offline_minutes": 10080}
    assert validate_activity({}) == {}


@pytest.mark.parametrize(("changes", "message"), [
    ({"sensitivity": True}, "sensitivity must be a whole number from 1 to 10"),
    ({"sensitivity": 5.5}, "sensitivity must be a whole number from 1 to 10"),
    ({"event_gap_seconds": float("inf")}, "event_gap_seconds must be a number of seconds from 1 to 3600"),
    ({"keep_what_matters": 1}, "keep_what_matters must be true or false"),
    ({"ignore_zones": {"left": 0}}, "ignore_zones must be a list of rectangles"),
    ({"ignore_zones": [[0, 0, 0.5, 0.5]] * (MAX_ZONES + 1)}, f"at most {MAX_ZONES} rectangles"),
    ({"ignore_zones": [[0, 0, 0.5]]}, "ignore zone 1 must have numbers left, top, right and bottom"),
    ({"ignore_zones": [[0, 0, 0.5, 0.5], [0, 0.5, 0.5, 0.5]]}, "ignore zone 2 must lie inside the frame"),
    ({"unmoving_keep_hours": 8761}, "unmoving_keep_hours must be a whole number from 1 to 8760"),
])
def test_wrong_values_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_activity(changes)


def test_every_wrong_value_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_activity({"sensitivity": 0, "offline_minutes": 0})
    assert refused.value.message == ("sensitivity must be a whole number from 1 to 10; "
                                     "offline_minutes must be a whole number from 1 to 10080")
