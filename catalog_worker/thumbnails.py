"""Thumbnails with Pillow: rendered from the frame, or a grey placeholder for a frame
Pillow cannot decode completely.

Speed and memory: the JPEG decoder's draft mode decodes straight to 1/2, 1/4 or 1/8
scale (libjpeg DCT scaling), so a 1080p frame becomes a 320-pixel thumbnail without ever
building the full-size image. The thumbnail is encoded by simplejpeg (libjpeg-turbo,
as the activity worker decodes with it) straight from the pixels: Pillow's `save` on an
image that is still the opened file costs a `getcwd` and a copy check per call (about
5 % of the worker's CPU under py-spy at 100 frames/s). Both release the GIL, so several
thumbnails render in parallel on the store's threads.

A frame that passed `sensr.frame_check.check_frame` is stored even if its entropy data
is corrupt ("a 200 means stored"): its thumbnail is then `placeholder_thumbnail`, of the
size its header declares.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import simplejpeg
from PIL import Image, ImageOps

THUMBNAIL_QUALITY = 80
PLACEHOLDER_GREY = (128, 128, 128)
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_ORIENTATION_TAG = 0x0112


class UndecodableImage(ValueError):
    """The bytes are not a JPEG Pillow can decode completely (not a JPEG, truncated, corrupt)."""


@dataclass(frozen=True, slots=True)
class Thumbnail:
    width: int
    """The frame's width in pixels, from its JPEG header (as stored, before EXIF orientation)."""
    height: int
    jpeg: bytes
    """The thumbnail: `width` pixels wide at most, upright (EXIF orientation applied)."""


def render_thumbnail(jpeg: bytes, width: int) -> Thumbnail:
    """Decode `jpeg` (at reduced scale) and encode an upright thumbnail at most `width`
    pixels wide, keeping the aspect ratio. Raises UndecodableImage."""
    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            if image.format != "JPEG":
                raise UndecodableImage(f"not a JPEG but {image.format}")
            stored_w, stored_h = image.size
            rotated = image.getexif().get(_ORIENTATION_TAG, 1) in _ROTATED
            upright_w, upright_h = (stored_h, stored_w) if rotated else (stored_w, stored_h)
            thumb_w = min(width, upright_w)
            thumb_h = max(1, math.ceil(thumb_w * upright_h / upright_w))
            image.draft("RGB", (thumb_h, thumb_w) if rotated else (thumb_w, thumb_h))
            ImageOps.exif_transpose(image, in_place=True)  # no copy of the decoded image
            upright: Image.Image = image
            if upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            upright.thumbnail((thumb_w, thumb_h), Image.Resampling.BILINEAR, reducing_gap=None)
            pixels = np.asarray(upright)
            grey = pixels.ndim == 2
            thumbnail = simplejpeg.encode_jpeg(pixels[:, :, None] if grey else pixels, quality=THUMBNAIL_QUALITY,
                                               colorspace="GRAY" if grey else "RGB", colorsubsampling="420")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        if isinstance(error, UndecodableImage):
            raise
        raise UndecodableImage(f"undecodable JPEG: {error}") from None
    return Thumbnail(stored_w, stored_h, thumbnail)


@lru_cache(maxsize=64)
def placeholder_thumbnail(width: int, height: int, thumbnail_width: int) -> Thumbnail:
    """A plain grey thumbnail for a frame of `width` x `height` pixels (from its header)
    that cannot be decoded: as wide as a rendered one would be, of the frame's aspect ratio."""
    thumb_w = min(thumbnail_width, width)
    thumb_h = max(1, math.ceil(thumb_w * height / width))
    out = io.BytesIO()
    Image.new("RGB", (thumb_w, thumb_h), PLACEHOLDER_GREY).save(out, "JPEG", quality=THUMBNAIL_QUALITY)
    return Thumbnail(width, height, out.getvalue())
