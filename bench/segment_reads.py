"""Image GETs through the api for frames still unsealed (served from Kafka) and for
frames in a sealed segment (one ranged GET), with thumbnails, beside a baseline measured
in the same run: a plain `get_object` of a whole 100 KB object from the same SeaweedFS.

    python bench/segment_reads.py [--frames 60] [--requests 300]

Starts its own Kafka and SeaweedFS, then the api, ingest_http and catalog_worker with
segments on (sealed after SEGMENT_AGE seconds). Uploads `--frames` photos, reads random
ones `--requests` times while they are unsealed (checked in the index), waits until they
are sealed, and reads them again. Goals: image GET p50 < 20 ms and p99 < 100 ms for both.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from infra.kafka_server import KafkaServer
from infra.seaweedfs import SeaweedS3
from launcher.service_stack import S3Endpoint, ServiceStack
from sensr.broker import ensure_topics
from sensr.index import FrameIndex
from sensr.settings import CoreSettings, KafkaSettings, S3Settings
from sensr.storage import ensure_bucket, make_s3_client
from workload.api_client import ApiClient
from workload.jpegs import camera_jpeg

SEGMENT_AGE = 45
P50_GOAL_MS, P99_GOAL_MS = 20.0, 100.0


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed_gets(session: requests.Session, urls: list[str], count: int) -> list[float]:
    times = []
    for _ in range(count):
        url = random.choice(urls)
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        response.raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(what: str, times: list[float], goals: bool) -> str:
    p50, p99 = percentiles(times)
    verdict = ""
    if goals:
        verdict = "  goals " + ("met" if p50 < P50_GOAL_MS and p99 < P99_GOAL_MS else "NOT met")
    print(f"  {what:<34} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms{verdict}", flush=True)
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sensr-bench-segreads-") as folder, ExitStack() as cleanup:
        root = Path(folder)
        print("starting Kafka, SeaweedFS, api, ingest_http and catalog_worker (segments on) ...", flush=True)
        broker = KafkaServer(root / "kafka")
        broker.start()
        cleanup.callback(broker.stop)
        seaweed = SeaweedS3(root / "seaweedfs")
        seaweed.start()
        cleanup.callback(seaweed.stop)
        ensure_topics(CoreSettings(), KafkaSettings(kafka_bootstrap=broker.bootstrap))
        stack = ServiceStack(broker.bootstrap, root / "data", S3Endpoint(seaweed.endpoint, seaweed.access_key,
                                                                         seaweed.secret_key),
                             services=("api", "ingest_http", "catalog_worker"),
                             overrides={"SENSR_LOG_LEVEL": "WARNING", "SENSR_CATALOG_SEGMENTS": "true",
                                        "SENSR_SEGMENT_MAX_AGE_S": str(SEGMENT_AGE)})
        cleanup.callback(stack.stop)
        stack.start(timeout=90)

        client = make_s3_client(S3Settings(s3_endpoint=seaweed.endpoint, s3_access_key=seaweed.access_key,
                                           s3_secret_key=seaweed.secret_key))
        ensure_bucket(client, "baseline")
        jpeg = camera_jpeg(100_000, (1280, 720), 1)
        client.put_object("baseline", "one.jpg", io.BytesIO(jpeg), len(jpeg))

        user = ApiClient(stack.api_url)
        camera = user.create_camera("bench")
        time.sleep(2)  # the edges learn the login from sensr.cameras
        upload = requests.Session()
        frames = [camera_jpeg(100_000, (1280, 720), seed) for seed in range(args.frames)]
        started = time.monotonic()
        for frame in frames:
            upload.put(camera.photo_url, data=frame, auth=camera.auth, timeout=30).raise_for_status()
        listed = user.wait_for_frames(camera.id, len(frames))
        images = [f"{stack.api_url}{frame['image_url']}" for frame in listed]
        thumbnails = [f"{stack.api_url}{frame['thumbnail_url']}" for frame in listed]
        index = FrameIndex.open(stack.setting("database_url"))
        cleanup.callback(index.close)

        def sealed() -> int:
            return sum(1 for row in index.page(camera.username, limit=10_000).frames if row.segment_key)

        print(f"{len(frames)} frames of ~100 KB uploaded and listed in {time.monotonic() - started:.1f} s; "
              f"{args.requests} GETs each (busy 2-core machine: read the ratios, not the absolutes)")

        def baseline() -> None:
            times = []
            for _ in range(args.requests):
                at = time.perf_counter()
                response = client.get_object("baseline", "one.jpg")
                response.read()
                response.close()
                response.release_conn()
                times.append((time.perf_counter() - at) * 1000)
            report("baseline: S3 get_object, 100 KB", times, goals=False)

        session = requests.Session()
        session.headers.update(user.session.headers)
        baseline()
        assert sealed() == 0, "frames were sealed before the unsealed reads"
        report("image, unsealed (Kafka)", timed_gets(session, images, args.requests), goals=True)
        report("thumbnail, unsealed (Kafka)", timed_gets(session, thumbnails, args.requests), goals=False)
        was_unsealed = sealed() == 0
        print(f"  (all still unsealed after the reads: {was_unsealed})")
        deadline = time.monotonic() + SEGMENT_AGE + 60
        while sealed() < len(frames):
            if time.monotonic() > deadline:
                raise RuntimeError("the segment was not sealed in time")
            time.sleep(0.5)
        print("  ... sealed", flush=True)
        baseline()
        report("image, sealed segment (ranged GET)", timed_gets(session, images, args.requests), goals=True)
        report("thumbnail, sealed (cached block)", timed_gets(session, thumbnails, args.requests), goals=False)


if __name__ == "__main__":
    main()
