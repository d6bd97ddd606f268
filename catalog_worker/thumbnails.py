"""Thumbnails with Pillow, and the check that a frame really is a decodable JPEG.

Speed: the JPEG decoder's draft mode decodes straight to 1/2, 1/4 or 1/8 scale (libjpeg
DCT scaling), so a 1080p frame becomes a 320-pixel thumbnail without ever building the
full-size image. Pillow releases the GIL while decoding and encoding, so several
thumbnails render in parallel on the store's threads.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageOps

THUMBNAIL_QUALITY = 80
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
            upright = ImageOps.exif_transpose(image)  # loads (decodes) the image
            if upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            upright.thumbnail((thumb_w, thumb_h), Image.Resampling.BILINEAR, reducing_gap=None)
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=THUMBNAIL_QUALITY)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        if isinstance(error, UndecodableImage):
            raise
        raise UndecodableImage(f"undecodable JPEG: {error}") from None
    return Thumbnail(stored_w, stored_h, out.getvalue())
