"""catalog_worker.thumbnails: header dimensions, EXIF orientation, draft-mode decoding, poison."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from catalog_worker.thumbnails import Thumbnail, UndecodableImage, render_thumbnail
from tests.support.jpegs import make_jpeg


def _size(thumbnail: Thumbnail) -> tuple[int, int]:
    with Image.open(io.BytesIO(thumbnail.jpeg)) as image:
        assert image.format == "JPEG"
        return image.size


def _with_orientation(jpeg: bytes, orientation: int) -> bytes:
    with Image.open(io.BytesIO(jpeg)) as image:
        exif = Image.Exif()
        exif[0x0112] = orientation
        out = io.BytesIO()
        image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
        return out.getvalue()


@pytest.mark.parametrize("progressive", [False, True])
def test_thumbnail_keeps_the_aspect_ratio_and_reports_header_dimensions(progressive: bool) -> None:
    thumbnail = render_thumbnail(make_jpeg(1280, 720, content="gradient", progressive=progressive), 320)
    assert (thumbnail.width, thumbnail.height) == (1280, 720)
    assert _size(thumbnail) == (320, 180)


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_rotation_turns_the_thumbnail_upright(orientation: int) -> None:
    jpeg = _with_orientation(make_jpeg(640, 480, content="gradient"), orientation)
    thumbnail = render_thumbnail(jpeg, 300)
    assert (thumbnail.width, thumbnail.height) == (640, 480)  # as stored in the header
    assert _size(thumbnail) == (300, 400)


def test_exif_rotation_turns_the_pixels_not_just_the_frame() -> None:
    """A left half black, right half white image, orientation 6 (rotate 90° clockwise to
    view): upright, the top is black and the bottom white."""
    image = Image.new("L", (400, 200), 255)
    image.paste(0, (0, 0, 200, 200))
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(out, "JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(render_thumbnail(out.getvalue(), 100).jpeg)) as thumb:
        assert thumb.size == (100, 200)
        assert thumb.getpixel((50, 20)) < 50 and thumb.getpixel((50, 180)) > 200


def test_small_and_grayscale_frames_are_not_upscaled() -> None:
    thumbnail = render_thumbnail(make_jpeg(96, 64, grayscale=True), 320)
    assert (thumbnail.width, thumbnail.height) == (96, 64)
    assert _size(thumbnail) == (96, 64)


def test_cmyk_jpeg_gets_an_rgb_thumbnail() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (640, 480), (10, 20, 30, 40)).save(out, "JPEG")
    thumbnail = render_thumbnail(out.getvalue(), 320)
    with Image.open(io.BytesIO(thumbnail.jpeg)) as image:
        assert image.mode == "RGB" and image.size == (320, 240)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("data", [make_jpeg(640, 480)[:3000], b"hello, this is text", b"", _png()],
                         ids=["truncated", "text", "empty", "png"])
def test_undecodable_frames_are_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(UndecodableImage) as refused:
        render_thumbnail(data, 320)
    assert str(refused.value)
