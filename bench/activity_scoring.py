"""Frames scored per second by the activity worker's motion model, against a plain
full-size Pillow decode of the same frames in the same run, and what bounds that ratio.

For 640x480 and 1920x1080, two kinds of frames:

* `scene`: a camera-like picture (ffmpeg's `testsrc2`, with an object moving through it
  and mild sensor noise), encoded by Pillow at quality 85;
* `noisy`: `workload.jpegs.camera_jpeg`, a noisy gradient (heavy noise costs the JPEG's
  entropy decoding, which no scaled decode can skip).

Timings per frame set, alternated in rounds (the process's CPU time, best round of each:
the machine is shared, and wall time follows other processes' load):

* `full decode`: `Image.open().load()`, the yardstick;
* the ways to decode small and grey, each as the model needs it (float32 on the analysis
  grid) or at libjpeg's smallest scale, 1/8: `pillow grid` (Pillow's draft mode, 'L', the
  smallest DCT scale at or above the grid, box-reduced to it), `simplejpeg grid` (the
  same through simplejpeg's bundled libjpeg-turbo 3, greyscale output), `pillow 1/8`,
  `simplejpeg 1/8` and `turbojpeg 1/8` (PyTurboJPEG on the system's libturbojpeg; left
  out when that library is missing). At 1/8 libjpeg computes one value per 8x8 block (its
  DC coefficient) and no colour: what is left is reading the file and the entropy
  (Huffman) decoding of every coefficient, which no decoder can skip in a baseline JPEG,
  so the fastest 1/8 decode is the floor of any decode;
* `model`: `MotionModel.score_grey` alone, on frames decoded beforehand (numpy only);
* `score`: `MotionModel.score`, the worker's whole per-frame work (`small_grey` + model).

The last column, `ceiling`, is the score/full-decode ratio that a model costing nothing
would reach with the fastest 1/8 decode: the 5x goal is out of reach when it is below 5.

    python bench/activity_scoring.py [--frames 30] [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import simplejpeg
from PIL import Image

from scanner_throughput import machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activity_worker.motion import WARMUP_FRAMES, MotionModel, grid_size, small_grey
from workload.jpegs import camera_jpeg

GOAL = 5.0
SIZES = ((640, 480), (1920, 1080))
QUALITY = 85


def scene_jpegs(size: tuple[int, int], count: int) -> list[bytes]:
    """`count` frames of testsrc2 with a box moving through it and mild noise, as JPEGs."""
    width, height = size
    graph = (f"testsrc2=s={width}x{height}:r=10[s];color=c=white:s={width // 10}x{height // 10}:r=10[b];"
             f"[s][b]overlay=x='mod(n*{width // 40},{width})':y={height // 3}:eval=frame,noise=alls=6:allf=t")
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", graph,
                          "-frames:v", str(count), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    frame_bytes = width * height * 3
    out = []
    for start in range(0, len(raw), frame_bytes):
        buffer = io.BytesIO()
        Image.frombuffer("RGB", size, raw[start:start + frame_bytes]).save(buffer, "JPEG", quality=QUALITY)
        out.append(buffer.getvalue())
    return out


def noisy_jpegs(size: tuple[int, int], count: int) -> list[bytes]:
    target = size[0] * size[1] // 6  # about 50 KB at 640x480, 350 KB at 1920x1080
    return [camera_jpeg(target, size, seed) for seed in range(count)]


def full_decode(frames: list[bytes]) -> None:
    for frame in frames:
        with Image.open(io.BytesIO(frame)) as image:
            image.load()


def pillow_grid(frame: bytes) -> np.ndarray:
    """What `small_grey` did before simplejpeg: Pillow's draft mode to the grid."""
    with Image.open(io.BytesIO(frame)) as image:
        size = grid_size(*image.size)
        image.draft("L", size)
        grey = image.convert("L")
    if grey.size != size:
        grey = grey.resize(size, Image.Resampling.BOX)
    return np.asarray(grey, dtype=np.float32)


def pillow_eighth(frame: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(frame)) as image:
        image.draft("L", (image.size[0] // 8, image.size[1] // 8))
        return np.asarray(image.convert("L"))


def simplejpeg_eighth(frame: bytes) -> np.ndarray:
    return simplejpeg.decode_jpeg(frame, colorspace="GRAY", min_factor=8, min_width=1, min_height=1)


def turbojpeg_eighth() -> Callable[[bytes], np.ndarray] | None:
    """PyTurboJPEG 1.x on the system's libturbojpeg (2.x), or None where it cannot load."""
    try:
        from turbojpeg import TJPF_GRAY, TurboJPEG
        decoder = TurboJPEG()
    except (ImportError, OSError, RuntimeError):
        return None
    return lambda frame: decoder.decode(frame, pixel_format=TJPF_GRAY, scaling_factor=(1, 8))


def each(decode: Callable[[bytes], object]) -> Callable[[list[bytes]], None]:
    def run(frames: list[bytes]) -> None:
        for frame in frames:
            decode(frame)
    return run


def make_scorer(greys: bool) -> Callable[[list], None]:
    """The model past its warm-up (every frame then scored in full), fed JPEGs or greys."""
    model = MotionModel()

    def score(frames: list) -> None:
        for frame in frames:
            model.score_grey(frame) if greys else model.score(frame)
    return score


DECODERS = {"pillow grid": pillow_grid, "simplejpeg grid": small_grey, "pillow 1/8": pillow_eighth,
            "simplejpeg 1/8": simplejpeg_eighth}
EIGHTHS = ("pillow 1/8", "simplejpeg 1/8", "turbojpeg 1/8")


def best_rates(frames: list[bytes], rounds: int) -> dict[str, float]:
    """Frames per CPU-second of each way, best of `rounds` alternated rounds."""
    decoders = dict(DECODERS)
    if (turbo := turbojpeg_eighth()) is not None:
        decoders["turbojpeg 1/8"] = turbo
    greys = [small_grey(frame) for frame in frames]
    score, model = make_scorer(greys=False), make_scorer(greys=True)
    for frame, grey in list(zip(frames, greys))[:WARMUP_FRAMES] * 2:
        score([frame])
        model([grey])
    ways: dict[str, tuple[Callable[[list], None], list]] = {
        "full decode": (full_decode, frames), **{name: (each(way), frames) for name, way in decoders.items()},
        "model": (model, greys), "score": (score, frames)}
    best = dict.fromkeys(ways, 0.0)
    for _ in range(rounds):
        for name, (way, data) in ways.items():
            started = time.process_time()
            way(data)
            elapsed = time.process_time() - started
            best[name] = max(best[name], len(data) / elapsed if elapsed else float("inf"))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30, help="distinct frames per set (default 30)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each way (default 5)")
    args = parser.parse_args()

    print(machine())
    ratios = []
    for size in SIZES:
        for kind, make in (("scene", scene_jpegs), ("noisy", noisy_jpegs)):
            frames = make(size, args.frames)
            rates = best_rates(frames, args.rounds)
            ratio = rates["score"] / rates["full decode"]
            ceiling = max(rates[name] for name in EIGHTHS if name in rates) / rates["full decode"]
            ratios.append(ratio)
            kilobytes = sum(map(len, frames)) / len(frames) / 1000
            print(f"{size[0]}x{size[1]} {kind:5} ({kilobytes:4.0f} KB/frame), frames/CPU-s: "
                  + ", ".join(f"{name} {rate:.0f}" for name, rate in rates.items())
                  + f"; score/full decode {ratio:.1f}x, ceiling (fastest 1/8 decode/full decode) {ceiling:.1f}x")
    worst = min(ratios)
    print(f"lowest ratio score/full decode: {worst:.1f}x (goal >= {GOAL:.0f}x): {'MET' if worst >= GOAL else 'NOT MET'}")
    return 0 if worst >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
