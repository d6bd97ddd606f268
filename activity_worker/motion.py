"""A motion score for each frame of a camera, against a background model of its recent frames.

How a frame is scored (every step a C-speed numpy or Pillow operation, none over pixels in
Python):

1. **Small greyscale.** The JPEG is decoded with libjpeg's DCT scaling (simplejpeg:
   1/2, 1/4 or 1/8 of full size, luma only), never at full size, then box-reduced to
   the analysis grid: `GRID` pixels on the long side, whatever the camera's resolution, so
   every threshold below means the same at 320x240 and at 4K, and a resolution change of
   the same aspect keeps the model. Box averaging also divides sensor noise.
2. **Exposure matched.** Auto-exposure and slow light changes (clouds, dusk) scale the
   whole picture: the frame is brought to the background's brightness by a global gain
   and offset, each a median over the picture, so a moving object (less than half the
   picture) does not bias them. Where either picture is clipped at white, only a darker
   other one counts as a difference.
3. **Changed pixels.** A pixel changed when it differs from the background by more than
   `sigmas` times its own noise (a per-pixel estimate of sensor noise and JPEG artefacts,
   learnt from the camera's frames) and by at least `contrast` grey levels.
4. **Speckle removed.** A morphological opening (3x3 erosion, then dilation) drops
   changed regions thinner than 3 grid pixels; ignore zones are then cleared.
5. **Score** = the changed share of the watched picture (the part outside ignore zones),
   0-100. The frame is *moving* when the score reaches `area_percent`.

Sensitivity 1..10 picks (`sigmas`, `contrast`, `area_percent`) from `SENSITIVITY`, each
falling as sensitivity rises, so for the same frames a higher sensitivity marks a superset
of changed pixels and moving frames ("never finds less"). The model itself (background,
noise, scene changes, warm-up) learns with the fixed `REFERENCE` thresholds, not the
camera's sensitivity, so changing the sensitivity changes only what is reported.

**Scene change.** When more than `SCENE_CHANGE_SHARE` of the watched picture differs from
the background even after exposure matching (lights switched on, camera moved or
re-aimed), the frame is marked `scene_change` (not moving) and the model starts over from
it, like at start-up.

**Warm-up.** A model has no baseline after a start (a restart, a rebalance that brings the
camera to this replica), a scene change or a change of frame shape. Its first
`WARMUP_FRAMES` frames then only build the baseline and score 0 with `warming_up` set, so
they can never open an event; the baseline is their per-pixel median (an object passing
during warm-up does not enter it), and the noise their per-pixel median absolute
deviation, never below the picture's typical noise.

After warm-up the background follows the scene: each pixel moves `BACKGROUND_RATE` of the
way to each new frame, except where it differs from the background: there only
`FOREGROUND_RATE`, so passing objects leave no trace, until it has stayed unchanged for
`STILL_FRAMES` frames: what stays put (a parked car; the ghost of an object that was in
the warm-up frames and left) becomes background within about sixty frames. The noise
estimate learns from background pixels only. The state is a few arrays of the grid's size
(about 270 KB a camera at 160x120; up to 600 KB more during a warm-up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import simplejpeg
from PIL import Image

GRID = 160
"""Long side of the analysis grid, in pixels (160x120 for 4:3, 160x90 for 16:9)."""

WARMUP_FRAMES = 8
"""Frames that only build the baseline after a start, a scene change or a new frame shape."""

SCENE_CHANGE_SHARE = 0.5
"""Share of the watched picture that, changed at once, is a new scene rather than motion."""

BACKGROUND_RATE = 0.05
"""How far a background pixel moves towards each new frame (about 20 frames' memory)."""

FOREGROUND_RATE = 0.01
"""How far a pixel where something moves goes towards each new frame."""

STILL_FRAMES = 10
"""Frames a pixel must differ from the background without changing before what is there
counts as part of the scene (and learns at `BACKGROUND_RATE`)."""

NOISE_RATE = 0.02
"""How fast the per-pixel noise estimate follows the background pixels' differences."""

SIGMA_MIN = 1.0
SIGMA_MAX = 24.0
"""Bounds of the per-pixel noise estimate, in grey levels of the analysis grid."""

_DARK = 8.0  # background pixels darker than this say little about the exposure gain
_WHITE = 250.0  # grey level from which a camera's picture is clipped (allowing for JPEG's ringing)
_MAX_GAIN = 8.0  # exposure gains beyond this (either way) are taken as this
_MAD_TO_SIGMA = 1.4826  # median absolute deviation -> standard deviation, for normal noise
_SPECKLE = 3  # side of the opening's square, grid pixels


class UndecodableFrame(ValueError):
    """The frame's bytes are not a JPEG Pillow can decode."""


@dataclass(frozen=True, slots=True)
class Zone:
    """A rectangle of the picture, in fractions of its width and height (0..1, left < right,
    top < bottom), so it stays in place when the camera's resolution changes."""

    left: float
    top: float
    right: float
    bottom: float

    def __post_init__(self) -> None:
        if not (0.0 <= self.left < self.right <= 1.0 and 0.0 <= self.top < self.bottom <= 1.0):
            raise ValueError(f"zone {self.left, self.top, self.right, self.bottom} is not a rectangle "
                             "inside the frame (fractions 0..1, left < right, top < bottom)")


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """A camera's motion settings: sensitivity 1..10 (default 5) and zones never scored."""

    sensitivity: int = 5
    ignore_zones: tuple[Zone, ...] = ()

    def __post_init__(self) -> None:
        if self.sensitivity not in SENSITIVITY:
            raise ValueError(f"sensitivity {self.sensitivity!r} is not an integer from 1 to 10")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a pixel counts as changed (`sigmas` times its noise and `contrast` grey levels)
    and a frame as moving (`area_percent` of the watched picture changed)."""

    sigmas: float
    contrast: float
    area_percent: float


SENSITIVITY: dict[int, Thresholds] = {
    1: Thresholds(sigmas=7.0, contrast=32.0, area_percent=1.50),
    2: Thresholds(sigmas=6.5, contrast=28.0, area_percent=1.00),
    3: Thresholds(sigmas=6.0, contrast=24.0, area_percent=0.70),
    4: Thresholds(sigmas=5.5, contrast=21.0, area_percent=0.50),
    5: Thresholds(sigmas=5.0, contrast=18.0, area_percent=0.33),
    6: Thresholds(sigmas=4.6, contrast=15.0, area_percent=0.22),
    7: Thresholds(sigmas=4.2, contrast=13.0, area_percent=0.15),
    8: Thresholds(sigmas=3.8, contrast=11.0, area_percent=0.10),
    9: Thresholds(sigmas=3.4, contrast=9.0, area_percent=0.07),
    10: Thresholds(sigmas=3.0, contrast=7.0, area_percent=0.05),
}

REFERENCE = SENSITIVITY[10]
"""What the model itself treats as changed: what the most sensitive setting sees."""


@dataclass(frozen=True, slots=True)
class MotionResult:
    """One frame's verdict. `score` is the changed share of the watched picture (0-100);
    `moving` whether it reaches the camera's sensitivity; `scene_change` marks a frame
    where the whole scene (or the frame's shape) changed: the model starts over from it,
    and it is never moving; `warming_up` a frame that only built the baseline (score 0,
    never moving)."""

    score: float
    moving: bool
    scene_change: bool = False
    warming_up: bool = False


def grid_size(width: int, height: int) -> tuple[int, int]:
    """The analysis grid for a frame of this size: `GRID` on the long side, same aspect."""
    if width >= height:
        return GRID, max(1, round(GRID * height / width))
    return max(1, round(GRID * width / height)), GRID


def small_grey(jpeg: bytes) -> np.ndarray:
    """The frame as float32 grey levels (rows, columns) on its analysis grid, decoded with
    libjpeg's DCT scaling (never at full size). Raises UndecodableFrame.

    simplejpeg (libjpeg-turbo 3, bundled in its wheel) rather than Pillow's draft mode:
    the same scaled greyscale decode without Pillow's marker parsing in Python, 10-25 %
    more frames a second (bench/activity_scoring.py)."""
    try:
        height, width = simplejpeg.decode_jpeg_header(jpeg)[:2]
        if Image.MAX_IMAGE_PIXELS and width * height > 2 * Image.MAX_IMAGE_PIXELS:  # Pillow's bomb limit
            raise ValueError(f"{width}x{height} pixels: a decompression bomb")
        size = grid_size(width, height)
        # the smallest of the scales 1/1 .. 1/8 that is still >= size; luma only
        decoded = simplejpeg.decode_jpeg(jpeg, colorspace="GRAY", min_width=size[0], min_height=size[1])
    except ValueError as error:
        raise UndecodableFrame(f"cannot decode the frame: {error}") from error
    grey = decoded[:, :, 0]
    if (grey.shape[1], grey.shape[0]) != size:
        grey = np.asarray(Image.fromarray(grey).resize(size, Image.Resampling.BOX))
    return grey.astype(np.float32)


def _exposure(grey: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """The global gain and offset that bring `grey` to `reference`'s exposure: each the
    median over the picture (every third pixel of every third row is plenty) where
    neither is clipped, so a moving object, less than half of it, does not bias them."""
    frame, ref = grey[::3, ::3], reference[::3, ::3]
    shown = (ref > _DARK) & (ref < _WHITE) & (frame < _WHITE)  # clipped pixels say nothing of the gain
    gain = _median(frame[shown] / ref[shown]) if shown.any() else 1.0
    gain = min(max(gain, 1.0 / _MAX_GAIN), _MAX_GAIN) if gain > 0 else 1.0
    return gain, _median((frame / gain - ref).ravel())


def _median(values: np.ndarray) -> float:
    """np.median of a non-empty 1-d array (the same value) without its wrappers' cost,
    which on the grid's few thousand values is half of the whole."""
    middle = (values.size - 1) // 2, values.size // 2
    low, high = np.partition(values, middle)[list(middle)]
    return float((low + high) / 2)


def _matched(grey: np.ndarray, background: np.ndarray) -> np.ndarray:
    """The frame at the background's exposure."""
    gain, offset = _exposure(grey, background)
    return grey / gain - offset


def _difference(grey: np.ndarray, matched: np.ndarray, background: np.ndarray) -> np.ndarray:
    """|matched frame - background|. A pixel clipped at white (in the frame or the
    background) is only known to be at least that bright: it differs only by how much the
    other one is darker."""
    if grey.max() >= _WHITE or background.max() >= _WHITE:
        frame_top = np.where(grey >= _WHITE, np.inf, matched)
        background_top = np.where(background >= _WHITE, np.inf, background)
        return np.maximum(np.maximum(matched - background_top, background - frame_top), 0)
    return np.abs(matched - background)


def _remove_speckle(changed: np.ndarray) -> np.ndarray:
    """Morphological opening with a `_SPECKLE`-wide square: a changed pixel is kept only
    where a whole square of changed pixels covers it, so regions thinner than the square
    (noise, JPEG block edges) go. Erosion then dilation, each separable into rows and
    columns of shifted whole-array ANDs and ORs."""
    return _square(_square(changed, np.logical_and), np.logical_or)


def _square(mask: np.ndarray, combine: np.ufunc) -> np.ndarray:
    """`combine` (AND: erosion, OR: dilation) of each pixel with its neighbours in a
    `_SPECKLE`-wide square; beyond the frame's edges there is nothing to combine with."""
    for axis in (0, 1):
        out = mask.copy()
        for shift in range(1, _SPECKLE // 2 + 1):
            ahead = [slice(None), slice(None)]
            behind = [slice(None), slice(None)]
            ahead[axis], behind[axis] = slice(shift, None), slice(None, -shift)
            combine(out[tuple(ahead)], mask[tuple(behind)], out=out[tuple(ahead)])
            combine(out[tuple(behind)], mask[tuple(ahead)], out=out[tuple(behind)])
        mask = out
    return mask


def _watched_mask(shape: tuple[int, int], zones: tuple[Zone, ...]) -> np.ndarray:
    """True where the picture is scored: outside every ignore zone. A zone covers every
    grid pixel it touches."""
    rows, cols = shape
    watched = np.ones(shape, dtype=bool)
    for zone in zones:
        watched[math.floor(zone.top * rows):math.ceil(zone.bottom * rows),
                math.floor(zone.left * cols):math.ceil(zone.right * cols)] = False
    return watched


def _threshold(sigma: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """Per pixel, the difference above which it changed."""
    return np.maximum(sigma * thresholds.sigmas, thresholds.contrast)


class MotionModel:
    """One camera's background model, kept in memory by whoever processes the camera's
    frames; feed it the camera's frames in order. `settings` may be replaced at any time
    (the next frame is scored with them; the model is kept)."""

    def __init__(self, settings: MotionSettings | None = None) -> None:
        self.settings = settings or MotionSettings()
        self._warmup: list[np.ndarray] = []
        self._background: np.ndarray | None = None
        self._variance: np.ndarray | None = None
        self._previous = np.zeros((0, 0), dtype=np.float32)  # last frame, at the background's exposure
        self._still = np.zeros((0, 0), dtype=np.uint8)  # frames each pixel has differed unchanging
        self._watched_for: tuple[tuple[int, int], tuple[Zone, ...]] | None = None
        self._watched = (np.ones((0, 0), dtype=bool), 0)

    @property
    def warming_up(self) -> bool:
        """True until the model has a baseline to compare frames against."""
        return self._background is None

    def score(self, jpeg: bytes) -> MotionResult:
        """Score the camera's next frame and learn from it. Raises UndecodableFrame (the
        model is then unchanged)."""
        return self.score_grey(small_grey(jpeg))

    def score_grey(self, grey: np.ndarray) -> MotionResult:
        """Score the next frame, given as `small_grey` returns it, and learn from it."""
        background = self._background
        if background is None:
            return self._warm_up(grey)
        if grey.shape != background.shape:
            return self._start_over(grey, score=0.0)
        matched = _matched(grey, background)
        difference = _difference(grey, matched, background)
        sigma = np.sqrt(self._variance)
        watched, watched_pixels = self._watched_mask(grey.shape)
        reference = _threshold(sigma, REFERENCE)
        foreground = difference > reference
        score, moving = 0.0, False
        if watched_pixels:
            thresholds = SENSITIVITY[self.settings.sensitivity]
            changed = _remove_speckle(difference > _threshold(sigma, thresholds)) & watched
            score = 100.0 * int(np.count_nonzero(changed)) / watched_pixels
            moving = score >= thresholds.area_percent
            if np.count_nonzero(foreground & watched) > SCENE_CHANGE_SHARE * watched_pixels:
                return self._start_over(grey, score=score)
        self._learn(grey, matched, difference, reference, foreground)
        return MotionResult(score=score, moving=moving)

    def _start_over(self, grey: np.ndarray, score: float) -> MotionResult:
        """A new scene (or frame shape): forget the baseline, warm up again from this frame."""
        self._background = self._variance = None
        self._warmup.clear()
        self._warm_up(grey)
        return MotionResult(score=score, moving=False, scene_change=True)

    def _warm_up(self, grey: np.ndarray) -> MotionResult:
        if self._warmup and self._warmup[0].shape != grey.shape:
            self._warmup.clear()
        if self._warmup:
            gain, offset = _exposure(grey, self._warmup[0])
            grey = grey / gain - offset
        self._warmup.append(grey)
        if len(self._warmup) == WARMUP_FRAMES:
            self._build_baseline()
        return MotionResult(score=0.0, moving=False, warming_up=True)

    def _build_baseline(self) -> None:
        """Background: the per-pixel median of the warm-up frames; noise: their per-pixel
        median absolute deviation, never below the picture's median of it (a few samples
        per pixel can be alike by chance)."""
        stack = np.stack(self._warmup)
        self._warmup.clear()
        background = np.median(stack, axis=0)
        sigma = np.median(np.abs(stack - background), axis=0) * _MAD_TO_SIGMA
        sigma = np.clip(sigma, max(SIGMA_MIN, float(np.median(sigma))), SIGMA_MAX)
        self._background = background.astype(np.float32)
        self._variance = np.square(sigma).astype(np.float32)
        self._previous = stack[-1]
        self._still = np.zeros(background.shape, dtype=np.uint8)

    def _learn(self, grey: np.ndarray, matched: np.ndarray, difference: np.ndarray,
               reference: np.ndarray, foreground: np.ndarray) -> None:
        """Move the background towards the frame as it came (so it follows the light, and
        the exposure gain stays near 1): slowly where something differs from the
        background, at the background's pace elsewhere and where the difference has not
        changed for `STILL_FRAMES` frames, so what stays put, a parked car or the ghost of
        one that left, becomes background within about sixty frames. The noise follows the
        background pixels' differences."""
        background, variance = self._background, self._variance
        assert background is not None and variance is not None
        moved = np.abs(matched - self._previous) > reference
        still = self._still
        np.add(still, 1, out=still, where=still < STILL_FRAMES)
        still *= foreground & ~moved  # back to 0 where nothing differs or something moved
        rate = np.where(foreground & (still < STILL_FRAMES),
                        np.float32(FOREGROUND_RATE), np.float32(BACKGROUND_RATE))
        background += rate * (grey - background)
        learnt = (np.square(difference) - variance) * np.float32(NOISE_RATE)
        np.add(variance, learnt, out=variance, where=~foreground)
        np.clip(variance, SIGMA_MIN ** 2, SIGMA_MAX ** 2, out=variance)
        self._previous = matched

    def _watched_mask(self, shape: tuple[int, int]) -> tuple[np.ndarray, int]:
        """The watched mask for this frame shape and the current zones, and its pixel count."""
        key = (shape, self.settings.ignore_zones)
        if self._watched_for != key:
            watched = _watched_mask(shape, self.settings.ignore_zones)
            self._watched_for, self._watched = key, (watched, int(np.count_nonzero(watched)))
        return self._watched
