"""The byte ranges and download names of clip MP4s (pure logic)."""

from __future__ import annotations

import pytest

from api.clip_media import RangeNotSatisfiable, byte_range, download_name


@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("", None), ("bytes=0-99", (0, 99)), ("bytes=100-", (100, 999)), ("bytes=-10", (990, 999)),
    ("bytes=900-5000", (900, 999)), ("bytes=-5000", (0, 999)), ("bytes=0-1,5-6", None), ("items=0-1", None),
])
def test_single_ranges_are_served_and_others_mean_everything(header: str | None,
                                                              expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-4", "bytes=-0"])
def test_ranges_outside_the_clip_are_refused(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, 1000)


def test_download_names_are_safe_file_names_from_the_camera_and_range() -> None:
    assert download_name("Front door / garage", 1_790_000_000_000_000, 1_790_000_060_000_000) == \
        "Front-door-garage_2026-09-21T141320Z_2026-09-21T141420Z.mp4"
    assert download_name("../..", 0, 1) == "camera_1970-01-01T000000Z_1970-01-01T000000Z.mp4"
