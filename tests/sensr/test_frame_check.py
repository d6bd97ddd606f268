"""sensr.frame_check: the check every edge and the catalog worker run before a frame is
accepted or decoded."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from sensr.frame_check import DEFAULT_MAX_FRAME_PIXELS, check_frame, read_frame_shape, vet_upload
from sensr.scanner import JpegError
from tests.support.jpegs import hostile_frames, make_jpeg, make_mpo, patch_frame_header


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("grayscale", [False, True])
def test_shape_is_read_from_the_header(progressive: bool, grayscale: bool) -> None:
    shape = read_frame_shape(make_jpeg(120, 70, progressive=progressive, grayscale=grayscale))
    assert (shape.width, shape.height, shape.progressive) == (120, 70, progressive)
    assert shape.components == (1 if grayscale else 3)
    assert shape.pixels == 120 * 70


def test_exif_thumbnail_and_mpf_files_report_the_first_image() -> None:
    assert read_frame_shape(make_jpeg(100, 60, exif_thumbnail=True)).width == 100
    first = Image.open(io.BytesIO(make_mpo(1, 2)))
    assert read_frame_shape(make_mpo(1, 2)).width == first.size[0]


def test_cmyk_is_accepted() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (20, 10)).save(out, "JPEG")
    assert read_frame_shape(out.getvalue()).components == 4


@pytest.mark.parametrize("kind, reason", [
    ("progressive_bomb", "too_many_pixels"), ("huge_declared", "too_many_pixels"),
    ("zero_height", "unsupported"), ("twelve_bit", "unsupported"), ("lossless", "unsupported"),
])
def test_hostile_frames_are_refused_with_a_reason(kind: str, reason: str) -> None:
    with pytest.raises(JpegError) as refused:
        vet_upload(hostile_frames()[kind], 16 << 20, DEFAULT_MAX_FRAME_PIXELS)
    assert refused.value.reason == reason
    assert "pixels" in str(refused.value) or "JPEG" in str(refused.value)


def test_the_limit_is_inclusive() -> None:
    jpeg = patch_frame_header(make_jpeg(16, 16), width=8000, height=8000)
    assert check_frame(jpeg, 64_000_000).pixels == 64_000_000
    with pytest.raises(JpegError, match="64,000,001|limit"):
        check_frame(jpeg, 63_999_999)


def test_every_frame_the_check_accepts_pillow_decodes() -> None:
    for jpeg in (make_jpeg(64, 48), make_jpeg(64, 48, progressive=True), make_jpeg(33, 17, grayscale=True),
                 make_jpeg(64, 48, restart_blocks=2), make_jpeg(64, 48, exif_thumbnail=True)):
        shape = check_frame(jpeg, DEFAULT_MAX_FRAME_PIXELS)
        with Image.open(io.BytesIO(jpeg)) as image:
            image.load()
            assert image.size == (shape.width, shape.height)
