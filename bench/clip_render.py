"""Time-lapse rendering: frames per second of the clip worker's render path for 1280x720
frames read from storage, beside the same encoder encoding the same frames already
decoded in memory, in the same run.

    python bench/clip_render.py [--frames 200] [--rounds 2] [--s3 HOST:PORT]

The frames (camera-like JPEGs of ~100 KB, `workload.jpegs`) are stored in S3 and a SQLite
index as the catalog worker stores them. The measured path is the worker's own
(`clip_worker.selection.choose` / `place` on the index → `sensr.frame_reader.read_ahead`
of `FrameReader.read` + `render.prepare` (decode, scale, timestamp caption) →
`render.encode`, libx264 through PyAV, into an MP4 file), without Kafka (progress
reports are a few small records). The yardstick: the same frames decoded and captioned
beforehand (not timed), then `render.encode` alone. Rounds alternate the two, to even out
a busy machine. Goal: the render path at >= 70 % of the yardstick's rate (reading frames
from storage is not the bottleneck).

S3: `--s3` (or `SENSR_TEST_S3_ENDPOINT`) uses a running endpoint with Sensr's default
credentials; otherwise a SeaweedFS is started in a temporary folder.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clip_worker.render import caption_for, encode, output_size, prepare
from clip_worker.selection import choose, place
from infra.seaweedfs import SeaweedS3
from sensr.clips import ClipJob
from sensr.frame_reader import FrameReader, read_ahead
from sensr.frames import new_frame_id
from sensr.index import FrameIndex, FrameRecord
from sensr.settings import ClipSettings, S3Settings
from sensr.storage import ensure_bucket, make_s3_client, object_keys
from workload.jpegs import camera_jpeg

GOAL = 0.70
WIDTH, HEIGHT = 1280, 720
FRAME_BYTES = 100_000
START_US = 1_790_000_000_000_000


def store(s3: S3Settings, index: FrameIndex, camera: str, count: int) -> None:
    client = make_s3_client(s3)
    jpegs = [camera_jpeg(FRAME_BYTES, (WIDTH, HEIGHT), seed) for seed in range(24)]
    records = []
    for n in range(count):
        timestamp = START_US + n * 1_000_000
        frame_id = new_frame_id(timestamp)
        key, thumb = object_keys(camera, timestamp, frame_id)
        jpeg = jpegs[n % len(jpegs)]
        client.put_object(s3.s3_bucket, key, io.BytesIO(jpeg), len(jpeg), content_type="image/jpeg")
        records.append(FrameRecord(frame_id, camera, timestamp, len(jpeg), WIDTH, HEIGHT, "http", key, thumb))
    index.add(records)


def from_storage(index: FrameIndex, reader: FrameReader, job: ClipJob, out: Path, threads: int) -> float:
    """Seconds to render `job` the worker's way."""
    started = time.perf_counter()
    placed = place(choose(index, job), job)
    size = output_size(placed[0].frame.width, placed[0].frame.height, job.max_width, job.max_height)
    pictures = read_ahead(placed, lambda item: (prepare(reader.read(item.frame.object_key), size,
                                                         caption_for(item.frame.timestamp_us, job.time_zone)),
                                                 item.pts), threads)
    encode(pictures, out, size, job.fps)
    return time.perf_counter() - started


def from_memory(pictures: list, size: object, job: ClipJob, out: Path) -> float:
    started = time.perf_counter()
    encode(iter(pictures), out, size, job.fps)  # type: ignore[arg-type]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)  # the yardstick holds them all decoded: 2.7 MB each
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--s3", default=os.environ.get("SENSR_TEST_S3_ENDPOINT", ""))
    args = parser.parse_args()
    threads = ClipSettings().clip_read_threads
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clip-bench-")))
        if args.s3:
            endpoint, access, secret = args.s3, "sensr", "sensr-secret-key"
        else:
            seaweed = SeaweedS3(folder / "seaweedfs")
            seaweed.start()
            stack.callback(seaweed.stop)
            endpoint, access, secret = seaweed.endpoint, seaweed.access_key, seaweed.secret_key
        s3 = S3Settings(s3_endpoint=endpoint, s3_access_key=access, s3_secret_key=secret,
                        s3_bucket=f"clip-bench-{uuid.uuid4().hex[:8]}")
        ensure_bucket(make_s3_client(s3), s3.s3_bucket)
        index = FrameIndex.open(f"sqlite:///{folder / 'index.sqlite'}")
        stack.callback(index.close)
        camera = "benchcam"
        print(f"storing {args.frames} frames of {WIDTH}x{HEIGHT} (~{FRAME_BYTES // 1000} KB) ...", flush=True)
        store(s3, index, camera, args.frames)
        job = ClipJob(job_id="bench", camera=camera, since_us=START_US, until_us=START_US + args.frames * 1_000_000,
                      object_key="unused", speed="timelapse", fps=30, max_frames=args.frames, max_width=WIDTH,
                      max_height=HEIGHT, timestamp=True)
        reader = FrameReader.connect(s3, threads)
        placed = place(choose(index, job), job)
        size = output_size(WIDTH, HEIGHT, WIDTH, HEIGHT)
        decoded = [(prepare(reader.read(p.frame.object_key), size, caption_for(p.frame.timestamp_us, "UTC")), p.pts)
                   for p in placed]
        storage_s, memory_s = [], []
        for round_ in range(args.rounds):
            memory_s.append(from_memory(decoded, size, job, folder / "memory.mp4"))
            storage_s.append(from_storage(index, reader, job, folder / "storage.mp4", threads))
            print(f"round {round_ + 1}: from storage {args.frames / storage_s[-1]:.1f} fps, "
                  f"from memory {args.frames / memory_s[-1]:.1f} fps", flush=True)
        storage_fps, memory_fps = args.frames / min(storage_s), args.frames / min(memory_s)
        ratio = storage_fps / memory_fps
        print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores; read threads {threads}; libx264 preset "
              f"veryfast crf 23; {args.frames} frames {WIDTH}x{HEIGHT} with timestamps")
        print(f"time-lapse from storage (index + S3 + decode + scale + encode): {storage_fps:.1f} frames/s")
        print(f"same encoder, same frames decoded in memory:                    {memory_fps:.1f} frames/s")
        print(f"ratio {ratio:.0%} (goal >= {GOAL:.0%}): {'met' if ratio >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
