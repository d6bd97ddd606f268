"""The one check a frame must pass to be stored, run by every edge before it answers and
by the catalog worker before it decodes.

"A 200 or a 226 means stored": whatever the worker would refuse, the edges refuse
first, so both call `check_frame`. It reads only the JPEG's frame header (SOF), never
decodes: the pixel count bounds what a decode costs (a progressive JPEG keeps every
DCT coefficient of the full image in memory, whatever the output scale), and the
header tells which codings the decoder supports.

Accepted: Huffman-coded baseline, extended sequential and progressive JPEGs (SOF0-2),
8-bit samples, 1, 3 or 4 components, a height in the header (no DNL), at most
`max_pixels` pixels. That is every JPEG a camera, phone or encoder writes; the rest
(lossless, hierarchical, arithmetic-coded, 12-bit) Pillow's libjpeg cannot decode.
"""

from __future__ import annotations

from dataclasses import dataclass

from sensr.scanner import JpegError, extract_single_jpeg

__all__ = ["DEFAULT_MAX_FRAME_PIXELS", "FrameShape", "check_frame", "read_frame_shape", "vet_upload"]

DEFAULT_MAX_FRAME_PIXELS = 64_000_000
"""64 megapixels: 8K (33 MP) and 48 MP phone photos fit; 13000 x 13000 does not."""

_SUPPORTED_SOF = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive"}
_OTHER_SOF = frozenset(range(0xC3, 0xD0)) - {0xC4, 0xC8, 0xCC}
_SOS, _EOI = 0xDA, 0xD9


@dataclass(frozen=True, slots=True)
class FrameShape:
    """What a JPEG's first frame header declares."""

    width: int
    height: int
    components: int
    progressive: bool

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_frame_shape(jpeg: bytes | memoryview) -> FrameShape:
    """The first image's frame header, for a complete JPEG (as `extract_single_jpeg` or
    the stream scanner returns it). Raises `JpegError('unsupported' | 'not_jpeg')` when the
    header declares a coding, precision or size the decoder cannot take, comes twice
    (libjpeg refuses a second one, and Pillow would read the size from the last), or
    (given other bytes, as a Kafka record may hold) is missing or cut short."""
    shape: FrameShape | None = None
    pos, end = 2, len(jpeg)
    while pos + 4 <= end:
        if jpeg[pos] != 0xFF:
            break
        marker = jpeg[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (_SOS, _EOI):
            break
        length = jpeg[pos + 2] << 8 | jpeg[pos + 3]
        if shape is not None and (marker in _SUPPORTED_SOF or marker in _OTHER_SOF):
            raise JpegError("not_jpeg", "the JPEG has more than one frame header")
        if marker in _SUPPORTED_SOF:
            if length < 8 or pos + 2 + length > end:  # not as the scanner returns it: any bytes
                raise JpegError("not_jpeg", "the JPEG's frame header is cut short")
            shape = _shape(marker, jpeg[pos + 4:pos + 2 + length])
        elif marker in _OTHER_SOF:
            raise JpegError("unsupported", f"the JPEG uses a coding Sensr cannot decode (SOF{marker - 0xC0}: "
                                           "lossless, hierarchical or arithmetic); send a baseline or progressive JPEG")
        pos += 2 + length
    if shape is None:
        raise JpegError("not_jpeg", "the JPEG has no frame header before its image data")
    return shape


def _shape(marker: int, header: bytes | memoryview) -> FrameShape:
    precision, height, width, components = header[0], header[1] << 8 | header[2], header[3] << 8 | header[4], header[5]
    if precision != 8:
        raise JpegError("unsupported", f"the JPEG has {precision}-bit samples; only 8-bit JPEGs are accepted")
    if components not in (1, 3, 4):
        raise JpegError("unsupported", f"the JPEG has {components} colour components; 1, 3 or 4 are accepted")
    if width == 0 or height == 0:
        raise JpegError("unsupported", f"the JPEG declares a size of {width} x {height} pixels")
    return FrameShape(width, height, components, marker == 0xC2)


def check_frame(jpeg: bytes | memoryview, max_pixels: int) -> FrameShape:
    """Refuse a complete JPEG that the catalog worker could not store; return its shape.

    Raises `JpegError` with reason 'too_many_pixels' (the edges answer 413) or
    'unsupported' / 'not_jpeg' (400)."""
    shape = read_frame_shape(jpeg)
    if shape.pixels > max_pixels:
        raise JpegError("too_many_pixels", f"the JPEG is {shape.width} x {shape.height} pixels "
                                           f"({shape.pixels:,} pixels); the limit is {max_pixels:,} pixels")
    return shape


def vet_upload(data: bytes | memoryview, max_bytes: int, max_pixels: int) -> bytes:
    """The one JPEG in an upload (photo or FTP file), checked as `check_frame` does.
    Raises `JpegError` (see `extract_single_jpeg` and `check_frame` for the reasons)."""
    jpeg = extract_single_jpeg(data, max_bytes)
    check_frame(jpeg, max_pixels)
    return jpeg
