"""The zone names a page gives its scripts (`api.ui.zone.zone_names`): pure logic."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from api.ui.zone import zone_names


def test_each_offset_of_the_years_around_is_named_as_the_server_names_it() -> None:
    assert json.loads(zone_names(ZoneInfo("America/New_York"), 2026)) == {"-300": "EST", "-240": "EDT"}
    assert json.loads(zone_names(ZoneInfo("Europe/Berlin"), 2026)) == {"60": "CET", "120": "CEST"}
    assert json.loads(zone_names(ZoneInfo("Asia/Kolkata"), 2026)) == {"330": "IST"}
    assert json.loads(zone_names(ZoneInfo("UTC"), 2026)) == {"0": "UTC"}
