"""Encoding a clip: stored JPEGs in, one H.264 MP4 out, with PyAV (FFmpeg's libraries).

Why PyAV rather than the `ffmpeg` program through a pipe: each frame needs its own
presentation time (frames placed by their Sensr timestamps, which are irregular) and
its own burned-in timestamp text; with PyAV both are plain values on each frame, while a
pipe would need a side channel (a concat list or per-frame filter commands) for both.
Frames are decoded with Pillow (at a reduced DCT scale when the output is smaller, so a
4K frame for a 720p clip costs a quarter of a full decode), scaled into the output size
(letterboxed, so frames of mixed sizes keep their aspect), and handed to libx264 from
memory: nothing is written per frame. The MP4 itself is written to one file (the
`faststart` step moves the index to the front, which needs a seekable output) and
uploaded when complete.

Output: H.264 (High profile), yuv420p, `+faststart`: plays in every browser and phone.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import av
from PIL import Image, ImageDraw, ImageFont, ImageOps

from clip_worker.selection import TIME_BASE

CRF = "23"
PRESET = "veryfast"


@dataclass(frozen=True, slots=True)
class Size:
    width: int
    height: int


def output_size(width: int, height: int, max_width: int, max_height: int) -> Size:
    """`width`x`height` scaled down (never up) to fit the limits, both even (yuv420p)."""
    scale = min(1.0, max_width / width, max_height / height)
    return Size(max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2))


def prepare(jpeg: bytes, size: Size, caption: str | None) -> Image.Image:
    """One output picture: the JPEG decoded (reduced in the decoder where it can be),
    letterboxed into `size`, with `caption` in the bottom-left corner."""
    image = Image.open(io.BytesIO(jpeg))
    image.draft("RGB", (size.width, size.height))
    image = image.convert("RGB")
    if image.size != (size.width, size.height):
        image = ImageOps.pad(image, (size.width, size.height), Image.Resampling.BILINEAR)
    if caption:
        _caption(image, caption)
    return image


def caption_for(timestamp_us: int, time_zone: str) -> str:
    when = datetime.fromtimestamp(timestamp_us / 1_000_000, tz=UTC).astimezone(ZoneInfo(time_zone))
    return when.strftime("%Y-%m-%d %H:%M:%S %Z")


@cache
def _font(height: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(10, height // 30))


def _caption(image: Image.Image, text: str) -> None:
    draw = ImageDraw.Draw(image)
    font = _font(image.height)
    margin = max(4, image.height // 80)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    y = image.height - (bottom - top) - 3 * margin
    draw.rectangle((margin, y, margin + right - left + 2 * margin, y + bottom - top + 2 * margin), fill=(0, 0, 0))
    draw.text((2 * margin - left, y + margin - top), text, font=font, fill=(255, 255, 255))


class Encoder:
    """An MP4 file being written: `add` pictures with their times, then `close`."""

    def __init__(self, path: Path, size: Size, fps: float) -> None:
        self._container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000),
                                                  options={"crf": CRF, "preset": PRESET})
        self._stream.width, self._stream.height = size.width, size.height
        self._stream.pix_fmt = "yuv420p"
        self._stream.codec_context.time_base = Fraction(1, TIME_BASE)
        self._stream.time_base = Fraction(1, TIME_BASE)
        self._last_pts: int | None = None
        self._frame_ticks = round(TIME_BASE / fps)

    def add(self, picture: Image.Image, pts: int) -> None:
        frame = av.VideoFrame.from_image(picture).reformat(format="yuv420p")
        frame.pts, frame.time_base = pts, Fraction(1, TIME_BASE)
        self._last_pts = pts
        self._container.mux(self._stream.encode(frame))

    def close(self) -> float:
        """Flush the encoder and finish the file; returns the clip's duration in seconds."""
        self._container.mux(self._stream.encode(None))
        self._container.close()
        return 0.0 if self._last_pts is None else (self._last_pts + self._frame_ticks) / TIME_BASE

    def abort(self) -> None:
        self._container.close()


def encode(pictures: Iterable[tuple[Image.Image, int]], path: Path, size: Size, fps: float,
           on_frame: Callable[[int], None] = lambda done: None) -> float:
    """Encode (picture, pts) pairs into `path`; returns the duration in seconds.
    `on_frame(frames done)` after each (it may raise to stop: the file is then closed)."""
    encoder = Encoder(path, size, fps)
    done = 0
    try:
        for picture, pts in pictures:
            encoder.add(picture, pts)
            done += 1
            on_frame(done)
    except BaseException:
        encoder.abort()
        raise
    return encoder.close()
