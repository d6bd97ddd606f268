"""Error texts as pages show them (`api.ui.messages`): pure logic."""

from __future__ import annotations

import pytest

from api.activity_settings import validate_activity
from api.errors import InvalidInput
from api.ui.messages import human_message


def test_field_names_read_as_the_forms_say_them() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_activity({"sensitivity": 0, "event_gap_seconds": 0, "offline_minutes": 0})
    assert human_message(refused.value.message) == (
        "Sensitivity must be a whole number from 1 to 10; Event gap (seconds) must be a number of seconds from 1 "
        "to 3600; Offline after (minutes) must be a whole number from 1 to 10080")


@pytest.mark.parametrize(("raw", "shown"), [
    ("name must not be empty", "Name must not be empty"),
    ("time_zone must be an IANA time zone name, e.g. Europe/Paris",
     "Time zone must be an IANA time zone name, e.g. Europe/Paris"),
    ("camera front_door_cam has no frames", "Camera front_door_cam has no frames"),  # only fields are renamed
    ("", ""),
])
def test_only_known_fields_are_renamed(raw: str, shown: str) -> None:
    assert human_message(raw) == shown
