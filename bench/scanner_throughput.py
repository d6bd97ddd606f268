"""Throughput of the streaming JPEG scanner against one C-speed pass over the same bytes.

Builds an MJPEG stream of real Pillow frames (1280x720, about 150 KB each) between
ffmpeg-style multipart headers, feeds it to `sensr.scanner.FrameScanner` in 64 KiB
chunks, and times one ``bytes.count(b"\\xff\\xd9")`` over the same buffer as the yardstick.
The two are timed alternately, several runs. Goal: scanner at >= 0.5x the count pass.

    python bench/scanner_throughput.py [--mb 200] [--runs 5] [--chunk 65536]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sensr.scanner import FrameScanner

GOAL = 0.5
WIDTH, HEIGHT = 1280, 720


def make_frame(seed: int, target_bytes: int, progressive: bool = False) -> bytes:
    """A 1280x720 JPEG of a noisy gradient, at the quality nearest `target_bytes`."""
    gradient = Image.linear_gradient("L").rotate(seed * 37).resize((WIDTH, HEIGHT)).convert("RGB")
    noise = Image.effect_noise((WIDTH, HEIGHT), 30 + seed * 5).convert("RGB")
    image = Image.blend(gradient, noise, 0.35)
    best = b""
    for quality in range(30, 96, 5):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, progressive=progressive)
        if not best or abs(out.tell() - target_bytes) < abs(len(best) - target_bytes):
            best = out.getvalue()
    return best


def part_header(length: int) -> bytes:
    return f"\r\n--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: {length}\r\n\r\n".encode()


def build_stream(frames: list[bytes], total_bytes: int) -> tuple[bytes, int]:
    """Repeat `frames` with multipart headers until `total_bytes`; return (stream, frame count)."""
    parts, size, count = [], 0, 0
    while size < total_bytes:
        frame = frames[count % len(frames)]
        parts += [part_header(len(frame)), frame]
        size += len(parts[-2]) + len(frame)
        count += 1
    return b"".join(parts) + b"\r\n--ffmpeg--\r\n", count


def scan(stream: bytes, chunk: int) -> tuple[int, int]:
    """Feed `stream` in `chunk`-sized pieces; return (frames, frame bytes)."""
    scanner = FrameScanner()
    view = memoryview(stream)
    frames = frame_bytes = 0
    for start in range(0, len(stream), chunk):
        for frame in scanner.feed(view[start:start + chunk]):
            frames += 1
            frame_bytes += len(frame)
    scanner.finish()
    return frames, frame_bytes


def verify(stream: bytes, frames: list[bytes], expected_count: int, chunk: int) -> None:
    """Untimed check that the scanner returns exactly the frames that went in."""
    scanner = FrameScanner()
    got = 0
    for start in range(0, len(stream), chunk):
        for frame in scanner.feed(stream[start:start + chunk]):
            if frame != frames[got % len(frames)]:
                raise SystemExit(f"frame {got} differs from the one in the stream")
            got += 1
    scanner.finish()
    if got != expected_count or scanner.truncated_bytes or scanner.oversized_frames:
        raise SystemExit(f"expected {expected_count} frames, got {got}")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"machine: {platform.platform()}; CPU: {cpu}; {os.cpu_count()} CPUs; "
            f"Python {platform.python_version()} ({platform.python_implementation()})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=200, help="stream size in MB (default 200)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--chunk", type=int, default=64 * 1024, help="feed size in bytes (default 65536)")
    parser.add_argument("--distinct", type=int, default=5, help="distinct frames to repeat (default 5)")
    parser.add_argument("--progressive", action="store_true", help="progressive frames (multi-scan path)")
    args = parser.parse_args()

    print(machine())
    frames = [make_frame(seed, 150_000, args.progressive) for seed in range(args.distinct)]
    stream, count = build_stream(frames, int(args.mb * 1e6))
    megabytes = len(stream) / 1e6
    print(f"stream: {megabytes:.1f} MB, {count} frames of {min(map(len, frames))}-{max(map(len, frames))} bytes "
          f"({WIDTH}x{HEIGHT} {'progressive' if args.progressive else 'baseline'}), multipart headers between, "
          f"fed in {args.chunk}-byte chunks")
    verify(stream, frames, count, args.chunk)

    ratios = []
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        found, frame_bytes = scan(stream, args.chunk)
        scanner_rate = megabytes / (time.perf_counter() - started)
        started = time.perf_counter()
        eoi_count = stream.count(b"\xff\xd9")
        count_rate = megabytes / (time.perf_counter() - started)
        if found != count or eoi_count < count:
            print(f"run {run}: scanner found {found} frames, expected {count}")
            return 1
        ratios.append(scanner_rate / count_rate)
        print(f"run {run}: scanner {scanner_rate:8.1f} MB/s ({found} frames, {frame_bytes / 1e6:.1f} MB)   "
              f"count(FF D9) {count_rate:8.1f} MB/s   ratio {ratios[-1]:.2f}")
    ratio = statistics.median(ratios)
    print(f"median ratio scanner/count: {ratio:.2f} (goal >= {GOAL}): {'MET' if ratio >= GOAL else 'NOT MET'}")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
