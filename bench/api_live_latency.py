"""Live view latency: how long after an upload a viewer of `live.mjpg` has the frame.

    python bench/api_live_latency.py [--frames 200] [--fps 20] [--viewers 1 10]

Starts its own Kafka and SeaweedFS in temporary folders, then the api and ingest_http
(`python -m ...`, SQLite). For each viewer count it opens that many `live.mjpg` streams
of one camera, uploads `--frames` distinct ~60 KB JPEGs one by one through ingest_http's
photo URL at `--fps`, and times each frame's arrival at every viewer:

- upload-to-viewer: from the start of the photo request to the frame's last byte at the
  viewer (what a person watching sees);
- publish-to-viewer: from the frame's Sensr timestamp (stamped by ingest_http as it
  publishes to Kafka, sent as X-Timestamp-Us) to the same moment.

Everything runs on this machine, so one clock serves both ends. Prints p50/p90/p99/max
in milliseconds and how many frames each viewer missed (a viewer that falls behind skips
frames by design; none should here).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from launcher.servers import kafka_and_s3
from launcher.service_stack import ServiceStack

PASSWORD = "benchmark password"


def make_frames(count: int) -> list[bytes]:
    """Distinct 640x480 JPEGs of about 60 KB."""
    rng = random.Random(1)
    base = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    frames = []
    for _ in range(count):
        noise = Image.frombytes("RGB", (64, 48), rng.randbytes(64 * 48 * 3)).resize((640, 480))
        out = io.BytesIO()
        Image.blend(base, noise, 0.5).save(out, "JPEG", quality=85)
        frames.append(out.getvalue())
    return frames


class Viewer(threading.Thread):
    """Reads one live.mjpg stream and notes when each frame's last byte arrived."""

    def __init__(self, url: str, headers: dict[str, str], expected: int) -> None:
        super().__init__(daemon=True)
        self.expected = expected
        self.response = requests.get(url, headers=headers, stream=True, timeout=60)
        self.response.raise_for_status()
        self.arrivals: dict[str, tuple[float, int]] = {}  # sha1 -> (arrival s, Sensr timestamp µs)
        self.error: BaseException | None = None

    def run(self) -> None:
        raw, buffer = self.response.raw, b""
        try:
            while len(self.arrivals) < self.expected:
                while b"\r\n\r\n" not in buffer:
                    buffer += raw.read1(65536)
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
                length = int(headers["Content-Length"])
                while len(buffer) < length:
                    buffer += raw.read1(65536)
                body, buffer = buffer[:length], buffer[length:]
                self.arrivals[hashlib.sha1(body).hexdigest()] = (time.time(), int(headers["X-Timestamp-Us"]))
        except requests.RequestException as error:
            self.error = error
        finally:
            self.response.close()


def percentiles(values: list[float]) -> str:
    if not values:
        return "no data"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49]:7.1f}   p90 {cuts[89]:7.1f}   p99 {cuts[98]:7.1f}   max {max(values):7.1f}"


def start_stack(cleanup: ExitStack, folder: Path) -> ServiceStack:
    """Kafka and S3 (see `launcher.servers`), then the api and ingest_http against them."""
    bootstrap, s3 = kafka_and_s3(cleanup, folder)
    stack = ServiceStack(bootstrap, folder / "data", s3, services=("api", "ingest_http"), overrides={"SENSR_LOG_LEVEL": "WARNING"})
    cleanup.callback(stack.stop)
    return stack.start(timeout=60)


def run(stack: ServiceStack, frames: list[bytes], fps: float, viewers: int) -> None:
    credentials = {"email": f"bench-{time.time_ns()}@example.com", "password": PASSWORD}
    requests.post(f"{stack.api_url}/api/v1/users", json=credentials, timeout=30).raise_for_status()
    token = requests.post(f"{stack.api_url}/api/v1/tokens", json=credentials, timeout=30).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    camera = requests.post(f"{stack.api_url}/api/v1/cameras", json={"name": "bench"}, headers=auth, timeout=30).json()
    watching = [Viewer(f"{stack.api_url}/api/v1/cameras/{camera['id']}/live.mjpg", auth, len(frames))
                for _ in range(viewers)]
    for viewer in watching:
        viewer.start()
    uploads: dict[str, float] = {}
    upload = requests.Session()
    for frame in frames:
        started = time.time()
        uploads[hashlib.sha1(frame).hexdigest()] = started
        upload.put(camera["upload_urls"]["photo"], data=frame, headers={"Content-Type": "image/jpeg"},
                   timeout=30).raise_for_status()
        time.sleep(max(0.0, started + 1 / fps - time.time()))
    for viewer in watching:
        viewer.join(timeout=10)  # a viewer that missed frames waits for them in vain
    from_upload = [(arrived - uploads[digest]) * 1000 for viewer in watching
                   for digest, (arrived, _) in viewer.arrivals.items() if digest in uploads]
    from_publish = [(arrived - stamp / 1e6) * 1000 for viewer in watching
                    for arrived, stamp in viewer.arrivals.values()]
    missed = [len(frames) - len(viewer.arrivals) for viewer in watching]
    print(f"\n{viewers} viewer(s), {len(frames)} frames of ~{sum(map(len, frames)) // len(frames) // 1000} KB "
          f"at {fps:g}/s (ms):")
    print(f"  upload-to-viewer   {percentiles(from_upload)}")
    print(f"  publish-to-viewer  {percentiles(from_publish)}")
    print(f"  frames missed per viewer: {missed}")
    for viewer in watching:
        if viewer.error is not None:
            print(f"  a viewer failed: {viewer.error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--fps", type=float, default=20.0)
    parser.add_argument("--viewers", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    frames = make_frames(args.frames)
    with tempfile.TemporaryDirectory(prefix="sensr-bench-live-") as folder, ExitStack() as stack:
        print("starting Kafka, SeaweedFS, api and ingest_http ...", flush=True)
        running = start_stack(stack, Path(folder))
        for viewers in args.viewers:
            run(running, frames, args.fps, viewers)
        print("\nstopping ...", flush=True)


if __name__ == "__main__":
    main()
