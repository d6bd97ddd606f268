"""Camera-like JPEGs of a chosen size, for load: the benchmarks' frames.

(The tests' JPEGs, made to exercise the scanner and the frame check with every JPEG
feature, are in `tests/support/jpegs.py`.)
"""

from __future__ import annotations

import io

from PIL import Image

QUALITIES = range(20, 98, 2)


def camera_jpeg(target_bytes: int, size: tuple[int, int] = (640, 480), seed: int = 0) -> bytes:
    """A real JPEG that looks like a camera's (a noisy gradient, different for each
    `seed`), encoded at the quality whose size is nearest `target_bytes`."""
    gradient = Image.linear_gradient("L").rotate(seed * 37).resize(size).convert("RGB")
    image = Image.blend(gradient, Image.effect_noise(size, 40 + seed).convert("RGB"), 0.3)
    best = b""
    for quality in QUALITIES:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if not best or abs(out.tell() - target_bytes) < abs(len(best) - target_bytes):
            best = out.getvalue()
    return best
