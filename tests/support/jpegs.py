"""Real JPEGs for tests, made with Pillow, and the byte streams cameras wrap them in.

Everything here is deterministic and cached, so property tests can draw from it freely:

* `make_jpeg` — one JPEG with the features a test needs (size, noise or gradient,
  baseline or progressive, restart markers, an EXIF thumbnail, a comment, grayscale).
* `sample_frames` — a varied set of small JPEGs covering those features.
* `exif_app1` — an EXIF APP1 payload embedding a real JPEG thumbnail (IFD1).
* `make_mpo` / `mpf_file` / `mpf_files` — Multi-Picture Format files (CIPA DC-007): a
  primary JPEG whose APP2 ``MPF\\0`` segment lists the images appended after it, as
  Pillow writes MPO and as Ultra HDR / camera gain maps and previews look.
* `mpjpeg_stream` / `mpjpeg_part_header` — frames the way ffmpeg's mpjpeg muxer
  writes them (``multipart/x-mixed-replace``).
* `markers` — the marker codes of a JPEG in stream order, walked from its structure
  (to check that a fixture really has the feature it claims).
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Sequence
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


@cache
def make_mpo(*seeds: int, progressive: bool = False) -> bytes:
    """A Pillow MPO: one image per seed (noise, sizes varying), the first the primary.

    Pillow writes a little-endian MP Index in the primary's APP2 and no MPF segment in
    the other images.
    """
    images = [_image(64 + 8 * i, 48, "noise", seed) for i, seed in enumerate(seeds)]
    out = io.BytesIO()
    images[0].save(out, "MPO", save_all=True, append_images=images[1:], quality=85, progressive=progressive)
    return out.getvalue()


MP_ENTRY_PRIMARY = 0x030000  # JPEG data, "Baseline MP Primary Image"


def mpf_file(images: Sequence[bytes], *, big_endian: bool = True, later_attributes: bool = False) -> bytes:
    """`images` joined into one MPF file the way Ultra HDR writers do it.

    An APP2 ``MPF\\0`` segment with an MP Index IFD (version, number of images, one MP
    entry per image: attributes, size, offset from the MP header, 0 for the primary) is
    put after the primary's APP0 (libultrahdr writes big-endian, hence the default); the
    other images follow the primary back to back. With `later_attributes`, each later
    image gets an APP2 MPF segment of its own holding only an MP Attribute IFD (as
    cameras and Apple write them), which must not be taken for an index.
    """
    later = [_after_app0(image, _mpf_attributes(number, big_endian)) if later_attributes else image
             for number, image in enumerate(images[1:], start=2)]
    primary = images[0]
    sizes = [len(primary) + len(_mpf_index([0] * len(images), [0] * len(images), big_endian))]
    sizes += map(len, later)
    insert_at = _app0_end(primary)
    mp_base = insert_at + 8  # after FF E2, the length and "MPF\0"
    offsets = [0] + [sum(sizes[:i]) - mp_base for i in range(1, len(sizes))]
    segment = _mpf_index(sizes, offsets, big_endian)
    return b"".join([_after_app0(primary, segment), *later])


def _mpf_index(sizes: Sequence[int], offsets: Sequence[int], big_endian: bool) -> bytes:
    order = ">" if big_endian else "<"
    entries_at = 8 + 2 + 3 * 12 + 4
    tiff = ((b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(order + "I", 8)
            + struct.pack(order + "H", 3)
            + struct.pack(order + "HHI", 0xB000, 7, 4) + b"0100"
            + struct.pack(order + "HHII", 0xB001, 4, 1, len(sizes))
            + struct.pack(order + "HHII", 0xB002, 7, 16 * len(sizes), entries_at)
            + struct.pack(order + "I", 0))
    assert len(tiff) == entries_at
    tiff += b"".join(struct.pack(order + "IIIHH", MP_ENTRY_PRIMARY if i == 0 else 0, size, offset, 0, 0)
                     for i, (size, offset) in enumerate(zip(sizes, offsets, strict=True)))
    return _app2_mpf(tiff)


def _mpf_attributes(number: int, big_endian: bool) -> bytes:
    """An MPF segment with an MP Attribute IFD only: version and MPIndividualNum."""
    order = ">" if big_endian else "<"
    tiff = ((b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(order + "I", 8)
            + struct.pack(order + "H", 2)
            + struct.pack(order + "HHI", 0xB000, 7, 4) + b"0100"
            + struct.pack(order + "HHII", 0xB101, 4, 1, number)
            + struct.pack(order + "I", 0))
    return _app2_mpf(tiff)


def _app2_mpf(tiff: bytes) -> bytes:
    return b"\xff\xe2" + struct.pack(">H", 2 + 4 + len(tiff)) + b"MPF\x00" + tiff


def _app0_end(jpeg: bytes) -> int:
    """Offset just after the APP0 (JFIF) segment that follows SOI, or after SOI."""
    if jpeg[2:4] != b"\xff\xe0":
        return 2
    return 4 + struct.unpack_from(">H", jpeg, 4)[0]


def _after_app0(jpeg: bytes, segment: bytes) -> bytes:
    at = _app0_end(jpeg)
    return jpeg[:at] + segment + jpeg[at:]


@cache
def mpf_files() -> tuple[bytes, ...]:
    """Small MPF files: Pillow MPOs of 2 and 3 images, an Ultra-HDR-like JPEG + gain map
    (primary with an EXIF thumbnail, grayscale gain map), and a little-endian 3-image file
    whose later images carry MP attributes."""
    return (
        make_mpo(10, 11),
        make_mpo(12, 13, 14, progressive=True),
        mpf_file([make_jpeg(96, 64, content="gradient", exif_thumbnail=True, seed=15),
                  make_jpeg(48, 32, content="gradient", grayscale=True, quality=70, seed=16)]),
        mpf_file([make_jpeg(64, 48, seed=17), make_jpeg(40, 32, seed=18, restart_blocks=1),
                  make_jpeg(32, 24, content="gradient", seed=19)], big_endian=False, later_attributes=True),
    )


def mpf_images(data: bytes) -> list[bytes]:
    """The images an MPF file's MP Index lists, cut out by offset and size (a slow
    reference for checking fixtures: segments walked by length, the index read field by
    field)."""
    pos = 2
    while data[pos + 1] != 0xE2 or data[pos + 4:pos + 8] != b"MPF\x00":
        pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    base = pos + 8
    order = {b"II": "<", b"MM": ">"}[data[base:base + 2]]
    ifd = base + struct.unpack_from(order + "I", data, base + 4)[0]
    for i in range(struct.unpack_from(order + "H", data, ifd)[0]):
        tag, _, count, value = struct.unpack_from(order + "HHII", data, ifd + 2 + 12 * i)
        if tag == 0xB002:
            entries = [struct.unpack_from(order + "IIIHH", data, base + value + 16 * n) for n in range(count // 16)]
            return [data[(base + offset if offset else 0):(base + offset if offset else 0) + size]
                    for _, size, offset, _, _ in entries]
    raise ValueError("no MP entries")


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


def patch_frame_header(jpeg: bytes, *, width: int | None = None, height: int | None = None,
                       precision: int | None = None, sof: int | None = None) -> bytes:
    """`jpeg` with its first frame header (SOF) rewritten: the declared size, sample
    precision or SOF marker. The entropy data is left as it is, so a patched size makes
    a "decompression bomb" of a few hundred bytes (what a hostile camera would send)."""
    pos = next(i for i, marker in _sof_positions(jpeg))
    out = bytearray(jpeg)
    if sof is not None:
        out[pos + 1] = sof
    if precision is not None:
        out[pos + 4] = precision
    if height is not None:
        out[pos + 5:pos + 7] = height.to_bytes(2, "big")
    if width is not None:
        out[pos + 7:pos + 9] = width.to_bytes(2, "big")
    return bytes(out)


def hostile_frames() -> dict[str, bytes]:
    """Complete JPEGs (the scanner accepts each) that the catalog worker cannot store, by
    what is wrong: what every edge must refuse before answering 200 or 226."""
    small = make_jpeg(16, 16, content="gradient", progressive=True)
    return {
        "progressive_bomb": patch_frame_header(small, width=13000, height=13000),
        "huge_declared": patch_frame_header(make_jpeg(16, 16, content="gradient"), width=60000, height=60000),
        "zero_height": patch_frame_header(make_jpeg(16, 16, content="gradient"), height=0),
        "twelve_bit": patch_frame_header(make_jpeg(16, 16, content="gradient"), precision=12),
        "lossless": patch_frame_header(make_jpeg(16, 16, content="gradient"), sof=0xC3),
    }


def _sof_positions(jpeg: bytes) -> list[tuple[int, int]]:
    found = []
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF and jpeg[pos + 1] != 0xDA:
        marker = jpeg[pos + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            found.append((pos, marker))
        pos += 2 + int.from_bytes(jpeg[pos + 2:pos + 4], "big")
    return found
