"""The alert value (notifier/message.py): its wording in the owner's time zone, and what it refuses."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from notifier.message import Alert, AlertKind, MotionSummary
from tests.support.notifier import motion_alert

AT = datetime(2026, 7, 1, 21, 30, 0, tzinfo=timezone.utc)


def alert(kind: AlertKind, zone: str = "America/New_York", **extra: object) -> Alert:
    return Alert(camera_id="cam_02", camera_name="Back yard", kind=kind, at=AT, time_zone=ZoneInfo(zone),
                 link="https://sensr.example/cameras/cam_02", **extra)


@pytest.mark.parametrize(("kind", "extra", "title"), [
    (AlertKind.MOTION_START, {}, "Back yard: motion at 17:30"),
    (AlertKind.MOTION_END, {"summary": MotionSummary(timedelta(seconds=45), 12, 0.5)}, "Back yard: motion ended at 17:30"),
    (AlertKind.OFFLINE, {}, "Back yard: no frames since 17:30"),
    (AlertKind.ONLINE, {}, "Back yard: back online at 17:30"),
])
def test_each_kind_has_a_title_in_the_owners_time(kind: AlertKind, extra: dict, title: str) -> None:
    made = alert(kind, **extra)
    assert made.title() == title  # 21:30 UTC is 17:30 in New York in summer
    assert "Wed 01 Jul 2026, 17:30:00 (America/New_York)" in made.text()
    assert made.text().endswith("https://sensr.example/cameras/cam_02\n")


def test_the_same_moment_reads_in_each_owners_zone() -> None:
    assert alert(AlertKind.MOTION_START, "Asia/Tokyo").title() == "Back yard: motion at 06:30"


def test_a_motion_end_tells_its_summary() -> None:
    made = alert(AlertKind.MOTION_END, summary=MotionSummary(timedelta(seconds=125), 42, 0.371))
    assert "ended at Wed 01 Jul 2026, 17:30:00 (America/New_York): 2 min 5 s, 42 frames, peak 0.37." in made.text()


def test_what_an_alert_refuses() -> None:
    with pytest.raises(ValueError, match="aware"):
        dataclasses.replace(motion_alert(), at=datetime(2026, 12, 4, 13, 2))
    with pytest.raises(ValueError, match="JPEG"):
        dataclasses.replace(motion_alert(), key_frame=b"GIF89a")
    with pytest.raises(ValueError, match="summary"):
        alert(AlertKind.MOTION_END)
    with pytest.raises(ValueError, match="summary"):
        alert(AlertKind.OFFLINE, summary=MotionSummary(timedelta(seconds=1), 1, 0.1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        motion_alert().camera_name = "x"  # type: ignore[misc]
