"""catalog_worker throughput: frames stored and indexed per second for 100 KB frames,
beside a 16-thread loop of `put_object` calls for the same frames to the same SeaweedFS,
with segments (the default layout of this bench) and, for the record, without; and the S3
PUTs each stored frame cost.

    python bench/catalog_throughput.py [--frames 3000] [--replicas 1 2 4] [--layouts segments objects]

Starts its own Kafka and SeaweedFS in temporary folders (SQLite index, the default).
For each run, N `python -m catalog_worker` processes start in a fresh consumer group and
bucket; once the group is stable the frames are produced to `sensr.frames` (12 cameras,
so they spread over the 6 partitions), and the rate is counted from the moment all are
in Kafka to the last one indexed (start-up, group join and producing are left out); with
segments, also to the last one in a sealed segment (segments sealed at 8 MiB or after
SEGMENT_AGE seconds). The yardstick is a plain loop on 16 threads (what the store can
take): `put_object` of each original, with no thumbnail, index or Kafka, into a bucket
of its own; it runs right before and right after each worker run (the mean is the
yardstick, to even out a busy machine). Goal: one worker (segments) >= 3x that loop.

The ceiling: the same frames read by a bare kafka-python consumer in one thread (the
worker's consumer settings, the worker's batch size, every partition assigned and no
group to join), doing nothing with them. No worker built on this client can store frames
faster than it can read them, so when that rate is below 3x the loop, the goal is out of
reach of any kafka-python worker on this machine, whatever the worker does.

S3 PUTs are counted as the objects in the run's bucket afterwards: every key the worker
writes is new (segment keys are unique, originals and thumbnails keyed by frame id) and
written by one single-part PUT, and nothing is deleted during a run. Goal: <= 0.05 PUTs
per stored frame.
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kafka import KafkaAdminClient, TopicPartition
from kafka.errors import KafkaError

from infra.kafka_server import KafkaServer
from infra.seaweedfs import SeaweedS3
from launcher.service_stack import start_group_at_end
from sensr.broker import FRAMES, ensure_topics, make_consumer, make_producer
from sensr.cameras import CameraLogin, publish_login
from sensr.frames import FrameEvent
from sensr.index import FrameIndex
from sensr.settings import CatalogSettings, CoreSettings, KafkaSettings, S3Settings
from sensr.storage import ensure_bucket, make_s3_client, object_keys
from workload.jpegs import camera_jpeg

GOAL = 3.0
PUT_GOAL = 0.05
YARDSTICK_THREADS = 16
SEGMENT_AGE = 5
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
        """Frames per second of put_object calls of the originals on 16 threads."""
        ensure_bucket(self.client, bucket)

        def put(frame: FrameEvent) -> None:
            key, _ = object_keys(frame.camera, frame.timestamp_us, frame.frame_id)
            self.client.put_object(bucket, key, io.BytesIO(frame.jpeg), len(frame.jpeg), content_type="image/jpeg")

        started = time.perf_counter()
        with ThreadPoolExecutor(YARDSTICK_THREADS) as pool:
            list(pool.map(put, frames))
        return len(frames) / (time.perf_counter() - started)

    def bare_consumer(self, frames: list[FrameEvent]) -> float:
        """Frames per second one kafka-python consumer reads `frames` at, doing nothing
        else (the ceiling of any worker on this client; see the module docstring)."""
        batch = CatalogSettings().catalog_batch_size
        consumer = make_consumer(self.core, self.kafka, max_poll_records=batch)
        producer = make_producer(self.core, self.kafka)
        try:
            partitions = [TopicPartition(FRAMES, p) for p in sorted(consumer.partitions_for_topic(FRAMES) or ())]
            consumer.assign(partitions)
            for partition, end in consumer.end_offsets(partitions).items():
                consumer.seek(partition, end)
            for frame in frames:
                producer.send(FRAMES, key=frame.key(), value=frame.jpeg, headers=frame.headers())
            producer.flush()
            read, started = 0, time.perf_counter()
            deadline = time.monotonic() + 600
            while read < len(frames):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the bare consumer read {read} of {len(frames)} frames")
                read += sum(len(records) for records in consumer.poll(timeout_ms=500, max_records=batch).values())
            return read / (time.perf_counter() - started)
        finally:
            producer.close()
            consumer.close()

    def puts(self, bucket: str) -> int:
        """Objects in `bucket`: the PUTs a run made (see the module docstring)."""
        return sum(1 for _ in self.client.list_objects(bucket, recursive=True))

    def workers(self, frames: list[FrameEvent], replicas: int, run: str, segments: bool) -> tuple[float, float | None]:
        """Frames per second stored and indexed by `replicas` worker processes.

        The frames are produced once every replica has joined the group (a stable group),
        so the rebalances of start-up are not timed; the rate is counted from the moment
        the last frame is in Kafka to the last frame indexed, so the producer's CPU (same
        two cores) is not timed either. Returns that rate and, with segments, the rate to
        the last frame sealed."""
        producer = make_producer(self.core, self.kafka)
        for camera in sorted({frame.camera for frame in frames}):
            publish_login(producer, CameraLogin.create(camera, f"id-{camera}", "bench", "pw"))
        producer.flush()
        database = f"sqlite:///{self.folder / f'{run}.sqlite'}"
        env = {**os.environ, "SENSR_KAFKA_BOOTSTRAP": self.kafka.kafka_bootstrap,
               "SENSR_S3_ENDPOINT": self.s3.s3_endpoint, "SENSR_S3_ACCESS_KEY": self.s3.s3_access_key,
               "SENSR_S3_SECRET_KEY": self.s3.s3_secret_key, "SENSR_S3_BUCKET": run,
               "SENSR_DATABASE_URL": database, "SENSR_CATALOG_GROUP_ID": run, "SENSR_CATALOG_OPS_PORT": "0",
               "SENSR_LOG_LEVEL": "WARNING", "SENSR_DATA_DIR": str(self.folder / "data"),
               "SENSR_CATALOG_SEGMENTS": str(segments).lower(), "SENSR_SEGMENT_MAX_AGE_S": str(SEGMENT_AGE)}
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
            listed = (stored - at_start) / (time.perf_counter() - started)
            if not segments:
                return listed, None
            while not self._all_sealed(index, cameras):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{run}: the workers did not seal every frame (see {self.folder})")
                time.sleep(0.1)
            return listed, (stored - at_start) / (time.perf_counter() - started)
        finally:
            producer.close()
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(60)
            index.close()

    @staticmethod
    def _all_sealed(index: FrameIndex, cameras: list[str]) -> bool:
        return all(row.segment_key for camera in cameras for row in index.page(camera, limit=100_000).frames)

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
    parser.add_argument("--layouts", nargs="+", choices=["segments", "objects"], default=["segments", "objects"])
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}")
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sensr-bench-catalog-")))
        bench = Bench(stack, folder, args.frames)
        sizes = sorted(len(jpeg) for jpeg in bench.jpegs)
        print(f"frames: {args.frames} per run, {CAMERAS} cameras, {WIDTH}x{HEIGHT} JPEGs of "
              f"{sizes[0] // 1000}-{sizes[-1] // 1000} KB; worker defaults (batch 200, 16 upload threads), "
              f"SQLite index; segments sealed at 8 MiB or {SEGMENT_AGE} s")
        verdicts: list[str] = []
        for layout in args.layouts:
            for replicas in args.replicas:
                run = f"{layout[:3]}{replicas}x{bench.runs}"
                bench.runs += 1
                before = bench.plain_loop(bench.frames(f"plain-{run}"), f"plain-{run}")
                listed, sealed = bench.workers(bench.frames(run), replicas, run, layout == "segments")
                after = bench.plain_loop(bench.frames(f"plain2-{run}"), f"plain2-{run}")
                plain = (before + after) / 2
                puts = bench.puts(run) / args.frames
                sealed_text = "" if sealed is None else f", {sealed:5.0f} frames/s to the last one sealed"
                print(f"  {layout}, {replicas} worker(s): {listed:5.0f} frames/s indexed{sealed_text} = "
                      f"{listed / plain:4.2f}x the {YARDSTICK_THREADS}-thread put_object loop ({plain:.0f} frames/s, "
                      f"mean of {before:.0f} before, {after:.0f} after); {puts:.3f} S3 PUTs per frame")
                if layout == "segments" and replicas == 1:
                    ceiling = bench.bare_consumer(bench.frames(f"bare-{run}"))
                    print(f"  ceiling: a bare kafka-python consumer reads {ceiling:5.0f} frames/s = "
                          f"{ceiling / plain:4.2f}x the loop; the worker reaches {listed / ceiling:.0%} of it")
                    verdicts.append(f"goal (one worker >= {GOAL:.0f}x the loop): "
                                    f"{'met' if listed >= GOAL * plain else 'NOT met'}"
                                    f"{'' if ceiling >= GOAL * plain else ' (out of reach: the bare consumer reads less)'}")
                    verdicts.append(f"goal (<= {PUT_GOAL} PUTs per frame): {'met' if puts <= PUT_GOAL else 'NOT met'}")
        for verdict in verdicts:
            print(verdict)


if __name__ == "__main__":
    main()
