"""Real JPEGs for tests, made with Pillow, and the byte streams cameras wrap them in.

Everything here is deterministic and cached, so property tests can draw from it freely:

* `make_jpeg` — one JPEG with the features a test needs (size, noise or gradient,
  baseline or progressive, restart markers, an EXIF thumbnail, a comment, grayscale).
* `sample_frames` — a varied set of small JPEGs covering those features.
* `exif_app1` — an EXIF APP1 payload embedding a real JPEG thumbnail (IFD1).
* `mpjpeg_stream` / `mpjpeg_part_header` — frames the way ffmpeg's mpjpeg muxer
  writes them (``multipart/x-mixed-replace``).
* `markers` — the marker codes of a JPEG in stream order, walked from its structure
  (to check that a fixture really has the feature it claims).
"""

from __future__ import annotations

import io
import random
import struct
from functools import cache
from typing import Literal

from PIL import Image

Content = Literal["noise", "gradient"]

MPJPEG_BOUNDARY = "ffmpeg"

SOI = b"\xff\xd8"
EOI = b"\xff\xd9"


@cache
def make_jpeg(width: int = 96, height: int = 64, *, content: Content = "noise", seed: int = 0,
              quality: int = 85, progressive: bool = False, grayscale: bool = False,
              restart_blocks: int = 0, restart_rows: int = 0, exif_thumbnail: bool = False,
              comment: bytes = b"") -> bytes:
    """Encode a synthetic image with Pillow and return the JPEG file bytes.

    `content="noise"` gives high-entropy data (many FF 00 stuffings at high quality);
    "gradient" gives smooth, well-compressed data. `restart_blocks`/`restart_rows` set a
    restart interval (a DRI segment and RSTn markers in the entropy data). With
    `exif_thumbnail`, an EXIF APP1 carrying a real 32x24 JPEG thumbnail (its own SOI
    and EOI) follows the JFIF header.
    """
    image = _image(width, height, content, seed)
    if grayscale:
        image = image.convert("L")
    options: dict[str, object] = {"quality": quality, "progressive": progressive}
    if restart_blocks:
        options["restart_marker_blocks"] = restart_blocks
    if restart_rows:
        options["restart_marker_rows"] = restart_rows
    if exif_thumbnail:
        options["exif"] = exif_app1(make_jpeg(32, 24, content="gradient", seed=seed + 1, quality=70))
    if comment:
        options["comment"] = comment
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def _image(width: int, height: int, content: Content, seed: int) -> Image.Image:
    if content == "noise":
        return Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))
    ramp = Image.linear_gradient("L").resize((width, height))
    shifted = Image.linear_gradient("L").rotate(90 + seed % 180).resize((width, height))
    return Image.merge("RGB", (ramp, shifted, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))


def exif_app1(thumbnail: bytes) -> bytes:
    """An EXIF APP1 payload ("Exif\\0\\0" + little-endian TIFF) whose IFD1 holds `thumbnail`.

    IFD0 has one entry (Orientation); IFD1 has Compression=6 (JPEG) and
    JPEGInterchangeFormat/Length (0x0201/0x0202) pointing at the thumbnail bytes, which
    follow the IFDs. Pass it to Pillow as ``save(..., exif=...)``.
    """
    ifd0_offset = 8
    ifd1_offset = ifd0_offset + 2 + 12 + 4
    thumbnail_offset = ifd1_offset + 2 + 3 * 12 + 4
    header = b"II*\x00" + struct.pack("<I", ifd0_offset)
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, 1) + struct.pack("<I", ifd1_offset)
    ifd1 = (struct.pack("<H", 3)
            + struct.pack("<HHII", 0x0103, 3, 1, 6)
            + struct.pack("<HHII", 0x0201, 4, 1, thumbnail_offset)
            + struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail))
            + struct.pack("<I", 0))
    tiff = header + ifd0 + ifd1
    assert len(tiff) == thumbnail_offset
    return b"Exif\x00\x00" + tiff + thumbnail


@cache
def sample_frames() -> tuple[bytes, ...]:
    """Small, distinct JPEGs covering the structures a scanner must get right."""
    return (
        make_jpeg(16, 16, content="gradient", quality=75),
        make_jpeg(128, 96, content="noise", quality=98),
        make_jpeg(80, 48, content="noise", quality=90, progressive=True, seed=1),
        make_jpeg(64, 48, content="gradient", exif_thumbnail=True, seed=2),
        make_jpeg(64, 48, content="noise", progressive=True, exif_thumbnail=True, seed=3),
        make_jpeg(64, 64, content="noise", quality=90, restart_blocks=2, seed=4),
        make_jpeg(48, 64, content="noise", quality=80, restart_rows=1, progressive=True, seed=5),
        make_jpeg(40, 40, content="noise", grayscale=True, comment=b"\xff\xd8\xff\xd9 in a comment", seed=6),
        make_jpeg(8, 8, content="gradient", quality=10, seed=7),
    )


def mpjpeg_part_header(length: int, boundary: str = MPJPEG_BOUNDARY) -> bytes:
    """The part header ffmpeg's mpjpeg muxer writes before each frame."""
    return f"Content-type: image/jpeg\r\nContent-length: {length}\r\n\r\n".encode()


def mpjpeg_stream(frames: list[bytes] | tuple[bytes, ...], boundary: str = MPJPEG_BOUNDARY) -> bytes:
    """`frames` as ffmpeg -f mpjpeg writes them: a boundary line, then per frame a part
    header, the JPEG, CRLF and the next boundary line."""
    delimiter = f"\r\n--{boundary}\r\n".encode()
    parts = [f"--{boundary}\r\n".encode()]
    for frame in frames:
        parts += [mpjpeg_part_header(len(frame), boundary), frame, delimiter]
    return b"".join(parts)


def markers(jpeg: bytes) -> list[int]:
    """Marker codes of a well-formed JPEG in stream order, RSTn included, stuffing and
    fill excluded. A slow reference walk (segments by length, entropy data byte by
    byte) for checking fixtures; raises ValueError on anything malformed."""
    if not jpeg.startswith(SOI):
        raise ValueError("no SOI")
    found = [0xD8]
    pos = 2
    while pos < len(jpeg):
        if jpeg[pos] != 0xFF:
            raise ValueError(f"expected a marker at {pos}")
        while jpeg[pos + 1] == 0xFF:
            pos += 1
        marker = jpeg[pos + 1]
        found.append(marker)
        if marker == 0xD9:
            if pos + 2 != len(jpeg):
                raise ValueError("bytes after EOI")
            return found
        pos += 2 + struct.unpack_from(">H", jpeg, pos + 2)[0]
        if marker == 0xDA:
            pos = _skip_entropy(jpeg, pos, found)
    raise ValueError("no EOI")


def _skip_entropy(jpeg: bytes, pos: int, found: list[int]) -> int:
    while True:
        if jpeg[pos] == 0xFF:
            following = jpeg[pos + 1]
            if 0xD0 <= following <= 0xD7:
                found.append(following)
            elif following not in (0x00, 0xFF):
                return pos
        pos += 1
