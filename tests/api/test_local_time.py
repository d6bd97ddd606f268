"""Local time (api/zones.py, api/ui/zone.py, api/ui/calendar.py, `tz` in api/v1): days,
hours and the calendar in the user's zone, or the browser's; days when clocks change
have 23 or 25 hours and say so."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from api.errors import InvalidInput
from api.times import parse_instant
from api.ui.calendar import day_hours, month
from api.zones import day_span_us, local_iso, zone
from tests.support.api import ApiStack, create_camera, seed_frames, sign_up
from tests.support.ui import Visitor, field
from tests.support.ui import create_camera as ui_create_camera
from tests.support.ui import sign_up as ui_sign_up

BERLIN = ZoneInfo("Europe/Berlin")
HOUR_US = 3_600_000_000
FALL_BACK_START_US = 1_792_879_200_000_000  # 2026-10-24T22:00:00Z: local midnight of Sunday 25 October
"""Berlin's clocks go back from 03:00 CEST to 02:00 CET on 2026-10-25: that day has 25 hours."""


def test_days_when_clocks_change_have_23_or_25_hours() -> None:
    assert day_span_us(date(2026, 10, 25), BERLIN) == (FALL_BACK_START_US, FALL_BACK_START_US + 25 * HOUR_US)
    spring = day_hours(date(2026, 3, 29), [], BERLIN)
    assert len(spring) == 23 and [hour.label for hour in spring[:3]] == ["00:00", "01:00", "03:00"]
    autumn = day_hours(date(2026, 10, 25), [(FALL_BACK_START_US + 2 * HOUR_US, 5),
                                             (FALL_BACK_START_US + 3 * HOUR_US, 7)], BERLIN)
    assert len(autumn) == 25
    assert [(hour.label, hour.count) for hour in autumn[1:5]] == [
        ("01:00", 0), ("02:00 UTC+02:00", 5), ("02:00 UTC+01:00", 7), ("03:00", 0)]
    assert len(day_hours(date(2026, 11, 25), [], BERLIN)) == 24


def test_a_month_counts_local_days() -> None:
    # 23:00 UTC on 30 November is already 1 December in Berlin.
    counts = [(1_796_081_400_000_000 - 1_800_000_000, 4)]  # 2026-11-30T23:00Z
    in_utc = month(date(2026, 11, 1), counts)
    in_berlin = month(date(2026, 12, 1), counts, BERLIN)
    assert in_utc.total == 4 and in_berlin.total == 4
    assert [day.count for week in in_berlin.weeks for day in week if day.date == date(2026, 12, 1)] == [4]


def test_instants_without_offset_are_in_the_zone_given() -> None:
    assert parse_instant("2026-10-25", "since", BERLIN) == FALL_BACK_START_US
    assert parse_instant("2026-10-25", "since") == FALL_BACK_START_US + 2 * HOUR_US  # UTC
    assert parse_instant("2026-10-25T00:00:00Z", "since", BERLIN) == FALL_BACK_START_US + 2 * HOUR_US
    assert local_iso(FALL_BACK_START_US + 3 * HOUR_US, BERLIN) == "2026-10-25T02:00:00+01:00"
    assert str(zone("Asia/Kolkata")) == "Asia/Kolkata"
    for bad in ("Mars/Base", "../../etc/passwd", "", "europe/berlin"):
        with pytest.raises(InvalidInput):
            zone(bad)


def test_the_calendar_api_counts_local_days(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner, name="Clock")
    times = [FALL_BACK_START_US + n * HOUR_US + 60_000_000 for n in range(-1, 26)]  # 27 hours, one frame each
    seed_frames(api_stack, camera["username"], times)
    url = api_stack.api(f"/cameras/{camera['id']}/calendar")
    answer = owner.session.get(url, params={"since": "2026-10-24", "until": "2026-10-27", "tz": "Europe/Berlin"},
                               timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["time_zone"] == "Europe/Berlin" and body["since"] == "2026-10-23T22:00:00.000000Z"
    assert [(day["date"], day["hours"], day["count"]) for day in body["days"]] == [
        ("2026-10-24", 24, 1), ("2026-10-25", 25, 25), ("2026-10-26", 24, 1)]
    assert body["days"][1]["start"] == "2026-10-25T00:00:00+02:00"
    assert [hour["local_start"][11:] for hour in body["hours"][3:5]] == ["02:00:00+02:00", "02:00:00+01:00"]
    plain = owner.session.get(url, params={"since": "2026-10-24", "until": "2026-10-27"}, timeout=30).json()
    assert "days" not in plain and "local_start" not in plain["hours"][0]
    assert owner.session.get(url, params={"tz": "Not/AZone"}, timeout=30).status_code == 400

    frames = owner.session.get(api_stack.api(f"/cameras/{camera['id']}/frames"), timeout=30,
                               params={"since": "2026-10-25", "until": "2026-10-26", "tz": "Europe/Berlin",
                                       "limit": 100}).json()["frames"]
    assert len(frames) == 25 and frames[0]["timestamp"] == "2026-10-24T22:01:00.000000Z"


def test_the_ui_shows_the_users_zone_or_the_browsers(api_stack: ApiStack) -> None:
    visitor, _ = ui_sign_up(api_stack)
    camera_id = ui_create_camera(visitor, "Clock")
    username = field(visitor.get(f"/cameras/{camera_id}/upload").text, "username")
    seed_frames(api_stack, username, [FALL_BACK_START_US + n * HOUR_US + 60_000_000 for n in range(25)])

    utc_day = visitor.get(f"/cameras/{camera_id}", params={"day": "2026-10-25"}).text
    assert "times are UTC" in utc_day and "This day has" not in utc_day

    visitor.session.cookies.set("sensr_tz", "Europe%2FBerlin")  # what app.js writes
    day = visitor.get(f"/cameras/{camera_id}", params={"day": "2026-10-25"}).text
    assert "times are Europe/Berlin" in day and 'data-zone-source="browser"' in day
    assert "This day has 25 hours: clocks went back (Europe/Berlin)." in day
    assert "02:00 UTC+02:00" in day and "02:00 UTC+01:00" in day
    assert "Download this day (zip, 25 frames)" in day
    assert "2026-10-24T22%3A00%3A00.000000Z" in day  # the zip and delete links name the local day's instants
    hour = visitor.get(f"/cameras/{camera_id}/hours/2026-10-25T01").text  # 01:00 UTC = 02:00 CET
    assert "02:00–03:00 CET" in hour

    assert visitor.post("/account/time-zone", {"time_zone": "America/New_York"}).status_code == 302
    chosen = visitor.get(f"/cameras/{camera_id}", params={"day": "2026-10-25"}).text
    assert "times are America/New_York" in chosen and 'data-zone-source="user"' in chosen
    assert "This day has" not in chosen  # New York changes its clocks a week later

    anonymous = Visitor(api_stack)
    anonymous.session.cookies.set("sensr_tz", "Nowhere%2FLand")
    assert "times are UTC" in anonymous.get("/login").text
