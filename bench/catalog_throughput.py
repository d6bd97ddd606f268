"""catalog_worker throughput: frames stored and indexed per second for 100 KB frames,
beside a plain loop of `put_object` calls for the same frames to the same SeaweedFS.

    python bench/catalog_throughput.py [--frames 3000] [--replicas 1 2 4]

Starts its own Kafka and SeaweedFS in temporary folders (SQLite index, the default).
For each run, N `python -m catalog_worker` processes start in a fresh consumer group and
bucket; once the group is stable the frames are produced to `sensr.frames` (12 cameras,
so they spread over the 6 partitions), and the rate is counted from the moment all are
in Kafka to the last one indexed (start-up, group join and producing are left out). The yardstick is a plain loop:
one thread, `put_object` of each original, one after the other, with no thumbnail, index
or Kafka, into a bucket of its own; it runs right before and right after each worker
run (the mean is the yardstick, to even out a busy machine). Goal: one worker >= 70 % of
the plain loop.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from infra.kafka_server import KafkaServer
from infra.seaweedfs import SeaweedS3
from launcher.service_stack import start_group_at_end
from sensr.broker import FRAMES, ensure_topics, make_producer
from sensr.cameras import CameraLogin, publish_login
from sensr.frames import FrameEvent
from sensr.index import FrameIndex
from sensr.settings import CoreSettings, KafkaSettings, S3Settings
from sensr.storage import ensure_bucket, make_s3_client, object_keys
from workload.jpegs import camera_jpeg

GOAL = 0.70
FRAME_BYTES = 100_000
CAMERAS = 12
WIDTH, HEIGHT = 1280, 720


def numbered(jpeg: bytes, n: int) -> bytes:
    """`jpeg` with a comment segment naming frame `n`: every frame's bytes are its own, as a
    real camera's are (identical bytes within SENSR_REUPLOAD_WINDOW would be stored once)."""
    text = f"frame {n}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


class Bench:
    def __init__(self, stack: ExitStack, folder: Path, frames: int) -> None:
        self.folder = folder
        self.count = frames
        broker = KafkaServer(folder / "kafka")
        broker.start()
        stack.callback(broker.stop)
        self.seaweed = SeaweedS3(folder / "seaweedfs")
        self.seaweed.start()
        stack.callback(self.seaweed.stop)
        self.core = CoreSettings()
        self.kafka = KafkaSettings(kafka_bootstrap=broker.bootstrap)
        ensure_topics(self.core, self.kafka)
        self.s3 = S3Settings(s3_endpoint=self.seaweed.endpoint, s3_access_key=self.seaweed.access_key,
                             s3_secret_key=self.seaweed.secret_key)
        self.client = make_s3_client(self.s3)
        self.jpegs = [camera_jpeg(FRAME_BYTES, (WIDTH, HEIGHT), seed) for seed in range(16)]
        self.runs = 0

    def frames(self, run: str) -> list[FrameEvent]:
        cameras = [f"{run}-cam{n}" for n in range(CAMERAS)]
        return [FrameEvent.new(cameras[n % CAMERAS], numbered(self.jpegs[n % len(self.jpegs)], n), "http")
                for n in range(self.count)]

    def plain_loop(self, frames: list[FrameEvent], bucket: str) -> float:
        """Frames per second of single-threaded put_object calls of the originals."""
        ensure_bucket(self.client, bucket)
        started = time.perf_counter()
        for frame in frames:
            key, _ = object_keys(frame.camera, frame.timestamp_us, frame.frame_id)
            self.client.put_object(bucket, key, io.BytesIO(frame.jpeg), len(frame.jpeg), content_type="image/jpeg")
        return len(frames) / (time.perf_counter() - started)

    def workers(self, frames: list[FrameEvent], replicas: int, run: str) -> float:
        """Frames per second stored and indexed by `replicas` worker processes.

        The frames are produced once every replica has joined the group (a stable group),
        so the rebalances of start-up are not timed; the rate is counted from the moment
        the last frame is in Kafka to the last frame indexed, so the producer's CPU (same
        two cores) is not timed either."""
        producer = make_producer(self.core, self.kafka)
        for camera in sorted({frame.camera for frame in frames}):
            publish_login(producer, CameraLogin.create(camera, f"id-{camera}", "bench", "pw"))
        producer.flush()
        database = f"sqlite:///{self.folder / f'{run}.sqlite'}"
        env = {**os.environ, "SENSR_KAFKA_BOOTSTRAP": self.kafka.kafka_bootstrap,
               "SENSR_S3_ENDPOINT": self.s3.s3_endpoint, "SENSR_S3_ACCESS_KEY": self.s3.s3_access_key,
               "SENSR_S3_SECRET_KEY": self.s3.s3_secret_key, "SENSR_S3_BUCKET": run,
               "SENSR_DATABASE_URL": database, "SENSR_CATALOG_GROUP_ID": run, "SENSR_CATALOG_OPS_PORT": "0",
               "SENSR_LOG_LEVEL": "WARNING", "SENSR_DATA_DIR": str(self.folder / "data")}
        index = FrameIndex.open(database)
        cameras = sorted({frame.camera for frame in frames})
        start_group_at_end(self.kafka.kafka_bootstrap, run)  # earlier runs' frames are not this run's work
        processes = [subprocess.Popen([sys.executable, "-m", "catalog_worker"], env=env,
                                      stderr=(self.folder / f"{run}-{n}.log").open("wb"))
                     for n in range(replicas)]
        try:
            self._wait_for_stable_group(run, replicas)
            for frame in frames:
                producer.send(FRAMES, key=frame.key(), value=frame.jpeg, headers=frame.headers())
            producer.flush()
            started, at_start = time.perf_counter(), self._stored(index, cameras)
            deadline = time.monotonic() + 600
            while (stored := self._stored(index, cameras)) < len(frames):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{run}: the workers did not store every frame (see {self.folder})")
                time.sleep(0.05)
            return (stored - at_start) / (time.perf_counter() - started)
        finally:
            producer.close()
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(60)
            index.close()

    @staticmethod
    def _stored(index: FrameIndex, cameras: list[str]) -> int:
        return sum(index.totals(camera)[0] for camera in cameras)

    def _wait_for_stable_group(self, group: str, members: int, timeout: float = 120) -> None:
        admin = KafkaAdminClient(bootstrap_servers=self.kafka.kafka_bootstrap)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    described = admin.describe_groups([group])[group]
                except KafkaError:  # e.g. no coordinator yet on a fresh broker
                    described = {}
                if described.get("group_state") == "Stable" and len(described.get("members", ())) == members:
                    return
                time.sleep(0.5)
            raise RuntimeError(f"group {group} did not settle with {members} members")
        finally:
            admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=3000, help="frames per run")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}")
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sensr-bench-catalog-")))
        bench = Bench(stack, folder, args.frames)
        sizes = sorted(len(jpeg) for jpeg in bench.jpegs)
        print(f"frames: {args.frames} per run, {CAMERAS} cameras, {WIDTH}x{HEIGHT} JPEGs of "
              f"{sizes[0] // 1000}-{sizes[-1] // 1000} KB; worker defaults (batch 200, 16 upload threads), "
              "SQLite index")
        one_worker = plain_at_one = 0.0
        for replicas in args.replicas:
            run = f"run{replicas}x{bench.runs}"
            bench.runs += 1
            before = bench.plain_loop(bench.frames(f"plain-{run}"), f"plain-{run}")
            rate = bench.workers(bench.frames(run), replicas, run)
            after = bench.plain_loop(bench.frames(f"plain2-{run}"), f"plain2-{run}")
            plain = (before + after) / 2
            print(f"  {replicas} worker(s): {rate:5.0f} frames/s stored+indexed = {rate / plain:4.0%} of the plain "
                  f"put_object loop (1 thread), {plain:.0f} frames/s (mean of {before:.0f} before, {after:.0f} after)")
            if replicas == 1:
                one_worker, plain_at_one = rate, plain
        if one_worker:
            verdict = "met" if one_worker >= GOAL * plain_at_one else "NOT met"
            print(f"goal (one worker >= {GOAL:.0%} of the plain loop): {verdict}")


if __name__ == "__main__":
    main()
