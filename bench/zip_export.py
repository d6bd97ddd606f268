"""Zip export throughput: MB/s of `GET .../frames.zip` beside a plain loop of object GETs
of the same frames, in the same run.

    python bench/zip_export.py [--frames 2000] [--size 640x480] [--repeats 3]

Uses the services named by SENSR_TEST_KAFKA_BOOTSTRAP and SENSR_TEST_S3_ENDPOINT (+
_ACCESS_KEY, _SECRET_KEY) when set, else starts its own Kafka and SeaweedFS in a
temporary folder; then the api (`python -m api`, SQLite). Stores `--frames` distinct
JPEGs straight into the bucket and the index (as the catalog worker would), then, for
each repeat:

- baseline: one thread GETs every original with the minio SDK, in time order, and
  reads it whole (what any export must at least do);
- zip: one client downloads the zip of the same frames from the api and counts its bytes.

Prints the median MB/s of each and the ratio (goal: the zip at least 70 % of the
baseline, so reading the objects, not building the zip, is what bounds the export; on
this 2-core machine the api, SeaweedFS and the client share the cores).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from launcher.servers import kafka_and_s3
from launcher.service_stack import ServiceStack
from sensr.frames import new_frame_id
from sensr.index import FrameIndex, FrameRecord
from sensr.settings import S3Settings
from sensr.storage import ensure_bucket, make_s3_client, object_keys

PASSWORD = "bench password 123"
START_US = 1_796_083_200_000_000  # 2026-12-01T00:00:00Z
STEP_US = 1_000_000


def jpeg(n: int, width: int, height: int) -> bytes:
    image = Image.effect_noise((width, height), 40 + n % 20).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, comment=f"frame {n}".encode())
    return out.getvalue()


def store(stack: ServiceStack, username: str, count: int, width: int, height: int) -> list[FrameRecord]:
    s3 = make_s3_client(S3Settings(s3_endpoint=stack.setting("s3_endpoint"),
                                   s3_access_key=stack.setting("s3_access_key"),
                                   s3_secret_key=stack.setting("s3_secret_key")))
    bucket = stack.bucket

    def one(n: int) -> FrameRecord:
        timestamp_us = START_US + n * STEP_US
        frame_id = new_frame_id(timestamp_us)
        image_key, thumbnail_key = object_keys(username, timestamp_us, frame_id)
        data = jpeg(n, width, height)
        s3.put_object(bucket, image_key, io.BytesIO(data), len(data), content_type="image/jpeg")
        return FrameRecord(frame_id, username, timestamp_us, len(data), width, height, "http", image_key,
                           thumbnail_key)

    with ThreadPoolExecutor(8) as pool:
        records = list(pool.map(one, range(count)))
    index = FrameIndex.open(stack.setting("database_url"))
    try:
        index.add(records)
    finally:
        index.close()
    return records


def plain_gets(stack: ServiceStack, records: list[FrameRecord]) -> float:
    """MB/s of reading every original with one minio client, one after another."""
    s3 = make_s3_client(S3Settings(s3_endpoint=stack.setting("s3_endpoint"),
                                   s3_access_key=stack.setting("s3_access_key"),
                                   s3_secret_key=stack.setting("s3_secret_key")))
    started, total = time.perf_counter(), 0
    for record in records:
        response = s3.get_object(stack.bucket, record.object_key)
        try:
            total += len(response.read())
        finally:
            response.close()
            response.release_conn()
    return total / 1e6 / (time.perf_counter() - started)


def zip_download(url: str, token: str, count: int) -> float:
    """MB/s of downloading the zip of the first `count` frames."""
    until = (START_US + count * STEP_US) // 1_000_000
    started, total = time.perf_counter(), 0
    with requests.get(url, params={"since": START_US // 1_000_000, "until": until}, stream=True, timeout=300,
                      headers={"Authorization": f"Bearer {token}"}) as answer:
        answer.raise_for_status()
        for piece in answer.iter_content(256 * 1024):
            total += len(piece)
    assert total == int(answer.headers["Content-Length"])
    return total / 1e6 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="sensr-bench-zip-") as folder, ExitStack() as cleanup:
        print("starting services and the api ...", flush=True)
        bootstrap, s3 = kafka_and_s3(cleanup, Path(folder))
        stack = ServiceStack(bootstrap, Path(folder) / "data", s3, services=("api",),
                             overrides={"SENSR_LOG_LEVEL": "WARNING"})
        ensure_bucket(make_s3_client(S3Settings(s3_endpoint=s3.endpoint, s3_access_key=s3.access_key,
                                                s3_secret_key=s3.secret_key)), stack.bucket)
        cleanup.callback(stack.stop)
        stack.start(timeout=60)
        credentials = {"email": f"bench-{time.time_ns()}@example.com", "password": PASSWORD}
        requests.post(f"{stack.api_url}/api/v1/users", json=credentials, timeout=30).raise_for_status()
        token = requests.post(f"{stack.api_url}/api/v1/tokens", json=credentials, timeout=30).json()["token"]
        camera = requests.post(f"{stack.api_url}/api/v1/cameras", json={"name": "bench"}, timeout=30,
                               headers={"Authorization": f"Bearer {token}"}).json()
        print(f"storing {args.frames} frames of {args.size} ...", flush=True)
        records = store(stack, camera["username"], args.frames, width, height)
        megabytes = sum(record.size for record in records) / 1e6
        url = f"{stack.api_url}/api/v1/cameras/{camera['id']}/frames.zip"
        baseline, zipped = [], []
        for _ in range(args.repeats):
            baseline.append(plain_gets(stack, records))
            zipped.append(zip_download(url, token, args.frames))
        base, out = statistics.median(baseline), statistics.median(zipped)
        print(f"\n{args.frames} frames, {megabytes:.1f} MB ({megabytes * 1000 / args.frames:.0f} KB each), "
              f"median of {args.repeats}:")
        print(f"  plain object GETs (minio, 1 thread)  {base:7.1f} MB/s   runs {[round(v, 1) for v in baseline]}")
        print(f"  zip export (api, 1 download)         {out:7.1f} MB/s   runs {[round(v, 1) for v in zipped]}")
        print(f"  zip / plain                          {out / base:7.0%}")


if __name__ == "__main__":
    main()
