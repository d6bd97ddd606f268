"""The api's side of activity: how fast motion events reach a viewer and are listed,
each beside the frame path it mirrors, measured in the same run.

    python bench/api_activity.py [--records 300] [--rate 50] [--viewers 1 10]
                                 [--frames 20000] [--events 2000] [--requests 300]

Uses the Kafka and S3 of `SENSR_TEST_KAFKA_BOOTSTRAP` / `SENSR_TEST_S3_ENDPOINT` when set
(as the tests do), else starts its own in a temporary folder; then the api alone
(`python -m api`, SQLite).

1. Relay: V viewers hold the camera's Server-Sent Events stream; the script produces
   `--records` activity records (`sensr.activity`, relayed as `event: activity`)
   interleaved with as many catalog events (`sensr.catalog`, `event: frame`: the
   baseline) at `--rate` per second each, and times publish-to-viewer for each kind (the
   send time rides in the record: `start_us` of the event, `timestamp_us` of the frame).
   Goal: the activity relay is no slower than the frame relay (p50 and p99 within 1.2x).
2. Listing: one camera with `--frames` scored frames and `--events` events in the index;
   `--requests` sequential requests each of a page of 50 motion events (newest first), a
   page of 100 moving frames (`moving=true`) and, as the baseline, a page of 100 frames.
   Goal: each activity listing within 2x of the plain frames listing's time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from launcher.servers import kafka_and_s3  # noqa: E402
from launcher.service_stack import ServiceStack  # noqa: E402
from sensr.activity import Event, EventRecord, Transition, activity_key, activity_value  # noqa: E402
from sensr.broker import ACTIVITY, CATALOG, make_producer  # noqa: E402
from sensr.catalog_event import catalog_key, catalog_value  # noqa: E402
from sensr.frames import new_frame_id, now_us  # noqa: E402
from sensr.index import FrameIndex, FrameRecord, FrameScore  # noqa: E402
from sensr.settings import CoreSettings, KafkaSettings, S3Settings  # noqa: E402
from sensr.storage import ensure_bucket, make_s3_client  # noqa: E402

PASSWORD = "benchmark password"


class SseViewer(threading.Thread):
    """Reads one camera's event stream and notes when each message arrived, by kind."""

    def __init__(self, url: str, headers: dict[str, str], expected: int) -> None:
        super().__init__(daemon=True)
        self.expected = expected
        self.response = requests.get(url, headers=headers, stream=True, timeout=60)
        self.response.raise_for_status()
        self.latency_ms: dict[str, list[float]] = {"frame": [], "activity": []}

    def run(self) -> None:
        kind = ""
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    arrived = time.time()
                    body = json.loads(line[6:])
                    sent_us = body["timestamp_us"] if kind == "frame" else body["event"]["start_us"]
                    self.latency_ms[kind].append((arrived - sent_us / 1e6) * 1000)
                    if sum(map(len, self.latency_ms.values())) >= self.expected:
                        return
        finally:
            self.response.close()


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


def start_api(cleanup: ExitStack, folder: Path) -> ServiceStack:
    bootstrap, s3 = kafka_and_s3(cleanup, folder)
    stack = ServiceStack(bootstrap, folder / "data", s3, services=("api",), overrides={"SENSR_LOG_LEVEL": "WARNING"})
    ensure_bucket(make_s3_client(S3Settings(s3_endpoint=s3.endpoint, s3_access_key=s3.access_key,
                                            s3_secret_key=s3.secret_key)), stack.env["SENSR_S3_BUCKET"])
    cleanup.callback(stack.stop)
    return stack.start(timeout=60)


def new_camera(stack: ServiceStack) -> tuple[dict[str, str], dict[str, str]]:
    """A new user's bearer header and camera."""
    credentials = {"email": f"bench-{time.time_ns()}@example.com", "password": PASSWORD}
    requests.post(f"{stack.api_url}/api/v1/users", json=credentials, timeout=30).raise_for_status()
    token = requests.post(f"{stack.api_url}/api/v1/tokens", json=credentials, timeout=30).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    camera = requests.post(f"{stack.api_url}/api/v1/cameras", json={"name": "bench"}, headers=auth, timeout=30).json()
    return auth, camera


def relay(stack: ServiceStack, records: int, rate: float, viewers: int) -> None:
    auth, camera = new_camera(stack)
    username = camera["username"]
    watching = [SseViewer(f"{stack.api_url}/api/v1/cameras/{camera['id']}/events", auth, 2 * records)
                for _ in range(viewers)]
    for viewer in watching:
        viewer.start()
    producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=stack.kafka_bootstrap))
    for n in range(records):
        started = time.time()
        at = now_us()
        frame = FrameRecord(new_frame_id(at), username, at, 1000, 640, 480, "http", "k", "t")
        producer.send(CATALOG, key=catalog_key(frame), value=catalog_value(frame))
        event = EventRecord(Transition.START, Event(f"bench-{username}-{n}", username, now_us(), 0, 1, 1, 5.0, "f"))
        producer.send(ACTIVITY, key=activity_key(event), value=activity_value(event))
        producer.flush()
        time.sleep(max(0.0, started + 1 / rate - time.time()))
    producer.close()
    for viewer in watching:
        viewer.join(timeout=30)
    print(f"\nrelay, {viewers} viewer(s), {records} records of each kind at {rate:g}/s each "
          "(publish-to-viewer, ms):")
    results = {}
    for kind in ("frame", "activity"):
        values = [ms for viewer in watching for ms in viewer.latency_ms[kind]]
        results[kind] = percentiles(values)
        missed = viewers * records - len(values)
        print(f"  {kind:9} p50 {results[kind][0]:7.1f}   p99 {results[kind][1]:7.1f}   missed {missed}")
    ratio = max(results["activity"][0] / results["frame"][0], results["activity"][1] / results["frame"][1])
    print(f"  activity / frame (worse of p50, p99): {ratio:.2f}x  (goal <= 1.2x)")


def listing(stack: ServiceStack, frames: int, events: int, count: int) -> None:
    auth, camera = new_camera(stack)
    username = camera["username"]
    index = FrameIndex.open(stack.env["SENSR_DATABASE_URL"])
    start = now_us() - frames * 1_000_000
    records = [FrameRecord(new_frame_id(start + n * 1_000_000), username, start + n * 1_000_000, 1000, 640, 480,
                           "http", "k", "t") for n in range(frames)]
    index.add(records)
    index.add_scores([FrameScore(r.frame_id, username, r.timestamp_us, float(n % 10), n % 10 >= 8)
                      for n, r in enumerate(records)])
    step = max(1, frames // events)
    index.save_events([EventRecord(Transition.END, Event(f"bench-{username}-{n}", username, r.timestamp_us,
                                                         r.timestamp_us + 2_000_000, 3, 2, 9.0, r.frame_id))
                       for n, r in enumerate(records[::step][:events])])
    index.close()
    base = f"{stack.api_url}/api/v1/cameras/{camera['id']}"
    session = requests.Session()
    session.headers.update(auth)
    queries = {"frames (baseline)": (f"{base}/frames", {"limit": 100, "order": "desc"}),
               "moving frames": (f"{base}/frames", {"limit": 100, "order": "desc", "moving": "true"}),
               "motion events": (f"{base}/motion-events", {"limit": 50})}
    print(f"\nlisting, {frames} scored frames and {events} events of one camera, {count} requests each:")
    timings = {}
    for name, (url, params) in queries.items():
        session.get(url, params=params, timeout=30).raise_for_status()  # warm
        took = []
        for _ in range(count):
            began = time.perf_counter()
            session.get(url, params=params, timeout=30).raise_for_status()
            took.append((time.perf_counter() - began) * 1000)
        timings[name] = statistics.median(took)
        p50, p99 = percentiles(took)
        print(f"  {name:18} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   {count / (sum(took) / 1000):7.0f} req/s")
    baseline = timings["frames (baseline)"]
    for name in ("moving frames", "motion events"):
        print(f"  {name} / frames: {timings[name] / baseline:.2f}x  (goal <= 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--viewers", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sensr-bench-activity-") as folder, ExitStack() as cleanup:
        print("starting the api (and Kafka and SeaweedFS unless SENSR_TEST_* name them) ...", flush=True)
        stack = start_api(cleanup, Path(folder))
        for viewers in args.viewers:
            relay(stack, args.records, args.rate, viewers)
        listing(stack, args.frames, args.events, args.requests)
        print("\nstopping ...", flush=True)


if __name__ == "__main__":
    main()
