"""Camera-like frame sequences for the activity tests, made by ffmpeg's lavfi sources.

The scene is a still, detailed picture (the first frame of `testsrc2`: colour bars, a
gradient, sharp edges, text) with temporal sensor noise from ffmpeg's `noise` filter; a
moving object is a solid box laid over it by `overlay`, at positions the test knows (it
stays whole inside the frame). ffmpeg hands raw RGB frames over a pipe; Pillow encodes
each as the camera would, at the JPEG quality the test picks, and changes the light when a
test needs it. Deterministic: the noise filter's seed is fixed.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageEnhance

from activity_worker.events import EventTracker
from sensr.activity import EventRecord
from activity_worker.motion import MotionModel, MotionResult

SIZE = (320, 240)
RATE = 10  # frames per second of the sequences (the timestamps say so)
NOISE = 12  # ffmpeg `noise` strength: about 9 grey levels of standard deviation at full size
T0_US = 1_780_000_000_000_000  # first frame's Sensr timestamp


@dataclass(frozen=True, slots=True)
class Box:
    """A solid box moving through the scene: top-left corner per frame n given by ffmpeg
    expressions (it must stay inside the frame)."""

    width: int
    height: int
    x: str
    y: str
    color: str = "white"


def across(width: int, height: int, size: tuple[int, int] = SIZE, *, left: int = 0, right: int | None = None,
           top: int | None = None, speed: int = 6, color: str = "white") -> Box:
    """A box going back and forth between columns `left` and `right` (default: the frame's
    sides, with a margin) at `speed` pixels per frame, swaying up and down around `top`
    (default: the middle)."""
    right = size[0] - 8 if right is None else right
    span = right - left - width - 16
    row = (size[1] - height) // 2 if top is None else top
    sway = min(20, row - 4, size[1] - row - height - 4)
    return Box(width, height, x=f"{left + 8}+abs(mod(n*{speed},{2 * span})-{span})",
               y=f"{row}+{sway}*sin(n/8)", color=color)


def scene_frames(count: int, size: tuple[int, int] = SIZE, *, noise: int = NOISE,
                 boxes: Sequence[Box] = ()) -> list[Image.Image]:
    """`count` frames of the still scene with sensor noise and the moving boxes."""
    width, height = size
    graph = f"testsrc2=s={width}x{height}:r={RATE}:d=0.1,loop=loop=-1:size=1[s0]"
    for index, box in enumerate(boxes):
        graph += (f";color=c={box.color}:s={box.width}x{box.height}:r={RATE}[b{index}];"
                  f"[s{index}][b{index}]overlay=x='{box.x}':y='{box.y}':eval=frame[s{index + 1}]")
    graph += f";[s{len(boxes)}]noise=alls={noise}:allf=t"
    raw = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", graph,
         "-frames:v", str(count), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True, timeout=120).stdout
    frame_bytes = width * height * 3
    assert len(raw) == count * frame_bytes, "ffmpeg made fewer frames than asked"
    return [Image.frombuffer("RGB", size, raw[i:i + frame_bytes]) for i in range(0, len(raw), frame_bytes)]


def jpeg(image: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def jpegs(images: Iterable[Image.Image], quality: int = 80) -> list[bytes]:
    return [jpeg(image, quality) for image in images]


def brighter(image: Image.Image, factor: float) -> Image.Image:
    """The picture with its light scaled by `factor` (as exposure or daylight do)."""
    return ImageEnhance.Brightness(image).enhance(factor)


def lamp_lit(image: Image.Image) -> Image.Image:
    """The picture as a lamp in its upper left lights it: far brighter there, falling off
    across the room (no global gain can match it)."""
    light = Image.radial_gradient("L").resize((image.width * 2, image.height * 2)).crop(
        (image.width // 2, image.height // 2, image.width * 3 // 2, image.height * 3 // 2))
    return ImageChops.screen(image, ImageChops.invert(light).convert("RGB"))


def frame_id(index: int) -> str:
    return f"frame-{index:06d}"


def timestamp_us(index: int) -> int:
    return T0_US + index * 1_000_000 // RATE


def score_all(model: MotionModel, frames: Iterable[bytes]) -> list[MotionResult]:
    return [model.score(frame) for frame in frames]


def run_camera(model: MotionModel, tracker: EventTracker, frames: Sequence[bytes],
               first_index: int = 0) -> Iterator[tuple[int, MotionResult, list[EventRecord]]]:
    """Feed frames (numbered from `first_index`) through a camera's model and event
    tracker, yielding each frame's index, motion result and event changes."""
    for index, frame in enumerate(frames, start=first_index):
        result = model.score(frame)
        yield index, result, tracker.observe(frame_id(index), timestamp_us(index), result)
