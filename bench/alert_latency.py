"""Alert latency: activity record (and the upload of its key frame) to webhook received
and to e-mail received, with the whole stack running.

    python bench/alert_latency.py [--seconds 30] [--cameras 100] [--moving 10] [--event-every 2]
                                  [--database sqlite|postgresql]

Starts its own Kafka and SeaweedFS (infra/, temporary folders) and the services (api,
catalog_worker, ingest_http, notifier; SQLite index, or a PostgreSQL of its own), an SMTP server (aiosmtpd) and a
webhook receiver (Tornado) on 127.0.0.1. Creates `--cameras` cameras through the API and,
for the `--moving` ones, two alert rules each (webhook and e-mail, no spacing), through
the API. Then for `--seconds`: every camera uploads one photo a second (HTTP PUT); every
`--event-every` seconds each moving camera's upload becomes the key frame of a new motion
event, whose `event.start` record is produced to `sensr.activity` right after the upload
is acknowledged (the activity worker's part, done here until it is on main).

Latencies per alert: upload start -> webhook received / e-mail received, and record
produced -> the same; upload -> key frame stored (its `sensr.catalog` announcement) and
from then (or from the record, if later) to received, which is the notifier's own share. Baseline in the same run: record produced -> read back by a plain
kafka-python consumer of `sensr.activity` (what any reader of the topic pays first).
Goals: upload-to-received p50 < 1 s, p99 < 3 s. Writes `bench/results/alert_latency.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.controller import Controller
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.kafka_server import KafkaServer  # noqa: E402
from infra.postgres import PostgresCluster  # noqa: E402
from infra.process import free_port  # noqa: E402
from infra.seaweedfs import SeaweedS3  # noqa: E402
from launcher.service_stack import LOOPBACK_LOAD, S3Endpoint, ServiceStack  # noqa: E402
from sensr.activity import Event, EventRecord, Transition, activity_key, activity_value  # noqa: E402
from sensr.broker import ACTIVITY, CATALOG, ensure_topics, make_consumer, make_producer  # noqa: E402
from sensr.catalog_event import decode_catalog_event  # noqa: E402
from sensr.settings import CoreSettings, KafkaSettings  # noqa: E402
from workload.api_client import ApiClient, CameraLogin  # noqa: E402
from workload.jpegs import camera_jpeg  # noqa: E402

RESULTS = ROOT / "bench" / "results"
P50_GOAL_S, P99_GOAL_S = 1.0, 3.0


class Arrivals:
    """When each event's alert arrived, per channel (event id -> wall-clock time: the
    services and this script share the machine, so one clock serves both ends)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[str, dict[str, float]] = {"webhook": {}, "email": {}, "kafka": {}, "stored": {}}

    def mark(self, channel: str, event_id: str) -> None:
        with self.lock:
            self.at[channel].setdefault(event_id, time.time())


class _Hook(RequestHandler):
    def initialize(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals

    def post(self) -> None:
        self.arrivals.mark("webhook", json.loads(self.request.body)["data"]["event_id"])
        self.finish()


class _Mailbox:
    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        # The plain-text body ends with the link, whose last part is the key frame's id.
        text = envelope.content.decode(errors="replace") if isinstance(envelope.content, bytes) else envelope.content
        for line in text.splitlines():
            if "/frames/" in line and line.startswith("http"):
                self.arrivals.mark("email", line.strip().rsplit("/", 1)[1])
                break
        return "250 OK"


def serve_webhooks(arrivals: Arrivals, cleanup: ExitStack) -> int:
    sock, port = bind_unused_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        HTTPServer(Application([(r"/hook", _Hook, {"arrivals": arrivals})])).add_sockets([sock])
        loop.call_soon(ready.set)
        loop.run_forever()

    threading.Thread(target=run, daemon=True, name="webhooks").start()
    ready.wait(10)
    cleanup.callback(loop.call_soon_threadsafe, loop.stop)
    return port


def follow_activity(bootstrap: str, arrivals: Arrivals, stop: threading.Event) -> threading.Thread:
    """The baseline reader: a plain consumer of sensr.activity, marking each event start;
    it also reads sensr.catalog, marking when each frame was stored (the key frame an
    alert waits for)."""
    consumer = make_consumer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap), ACTIVITY, CATALOG,
                             group_id=None, auto_offset_reset="latest", fetch_max_wait_ms=10)
    consumer.poll(timeout_ms=2000)  # join: partitions assigned, positions at the end

    def run() -> None:
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=100).values():
                for record in records:
                    if record.topic == CATALOG:
                        arrivals.mark("stored", decode_catalog_event(record.key, record.value).frame_id)
                    else:
                        arrivals.mark("kafka", json.loads(record.value)["event"]["key_frame_id"])
        consumer.close()

    thread = threading.Thread(target=run, daemon=True, name="baseline")
    thread.start()
    return thread


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 4), "p99": round(at(0.99), 4),
            "max": round(ordered[-1], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--cameras", type=int, default=100)
    parser.add_argument("--moving", type=int, default=10)
    parser.add_argument("--event-every", type=float, default=2.0, help="seconds between a moving camera's events")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the index database (and delivery log): SQLite file, or a PostgreSQL of its own")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (services' logs) and say where")
    args = parser.parse_args()

    arrivals = Arrivals()
    with ExitStack() as cleanup:
        folder = Path(tempfile.mkdtemp(prefix="sensr-bench-alerts-"))
        if args.keep:
            print(f"keeping {folder}", flush=True)
        else:
            cleanup.callback(lambda: __import__("shutil").rmtree(folder, ignore_errors=True))
        kafka = KafkaServer(folder / "kafka")
        kafka.start()
        cleanup.callback(kafka.stop)
        ensure_topics(CoreSettings(), KafkaSettings(kafka_bootstrap=kafka.bootstrap))
        s3 = SeaweedS3(folder / "s3")
        s3.start()
        cleanup.callback(s3.stop)
        database: dict[str, str] = {}
        if args.database == "postgresql":
            folder.chmod(0o755)  # the server runs as `postgres`, which must enter its data folder
            postgres = PostgresCluster(folder / "postgres", port=free_port())
            postgres.start()
            cleanup.callback(postgres.stop)
            database["SENSR_DATABASE_URL"] = postgres.url
        smtp_port = free_port()
        smtp = Controller(_Mailbox(arrivals), hostname="127.0.0.1", port=smtp_port)
        smtp.start()
        cleanup.callback(smtp.stop)
        hook_port = serve_webhooks(arrivals, cleanup)
        stack = ServiceStack(kafka.bootstrap, folder / "data", S3Endpoint(s3.endpoint, s3.access_key, s3.secret_key),
                             services=("api", "catalog_worker", "ingest_http", "notifier"),
                             overrides={**LOOPBACK_LOAD, "SENSR_LOG_LEVEL": "WARNING",
                                        "SENSR_SMTP_HOST": "127.0.0.1", "SENSR_SMTP_PORT": str(smtp_port),
                                        "SENSR_SMTP_SECURITY": "plain",
                                        "SENSR_NOTIFIER_ALLOWED_NETWORKS": "127.0.0.0/8", **database}).start()
        cleanup.callback(stack.stop)
        user = ApiClient(stack.api_url)
        cameras = [user.create_camera(f"Camera {n}") for n in range(args.cameras)]
        moving = cameras[:args.moving]
        for camera in moving:
            for rule in ({"channel": "webhook", "target": f"http://127.0.0.1:{hook_port}/hook"},
                         {"channel": "email", "target": "owner@example.org"}):
                answer = user.session.post(user.url(f"/cameras/{camera.id}/alerts"),
                                           json={**rule, "spacing_seconds": 0, "on_offline": False,
                                                 "on_online": False}, timeout=30)
                assert answer.status_code == 201, answer.text
        stop = threading.Event()
        baseline = follow_activity(kafka.bootstrap, arrivals, stop)
        print(f"stack up; {args.cameras} cameras, {args.moving} in motion, {args.seconds:g} s", flush=True)
        sent = run_load(args, cameras, {camera.id for camera in moving}, kafka.bootstrap)
        deadline = time.time() + 30
        while time.time() < deadline and not all(len(arrivals.at[ch]) >= len(sent) for ch in ("webhook", "email")):
            time.sleep(0.2)
        stop.set()
        baseline.join(5)

    report = summarize(args, sent, arrivals)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "alert_latency.json").write_text(json.dumps(report, indent=2))
    for name, figures in report["latency_s"].items():
        print(f"{name:28s} n={figures['n']:4d}  p50={figures['p50']}  p99={figures['p99']}  max={figures['max']}")
    print(f"goals (upload to received: p50 < {P50_GOAL_S:g} s, p99 < {P99_GOAL_S:g} s): "
          f"{'met' if report['goals_met'] else 'MISSED'}; wrote {args.out / 'alert_latency.json'}")


def run_load(args: argparse.Namespace, cameras: list[CameraLogin], moving: set[str],
             bootstrap: str) -> dict[str, tuple[float, float]]:
    """Upload one photo per camera per second; every `--event-every` s a moving camera's
    photo starts an event. Returns key frame id -> (upload start, record produced)."""
    producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap), linger_ms=0)
    jpegs = [camera_jpeg(40_000, seed=n) for n in range(8)]
    sent: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()
    sessions = threading.local()
    every = max(1, round(args.event_every))

    statuses: dict[int | str, int] = {}

    def upload(camera: CameraLogin, tick: int) -> None:
        session = getattr(sessions, "session", None) or requests.Session()
        sessions.session = session
        started = time.time()
        base = jpegs[tick % len(jpegs)]
        # A comment segment makes every upload's bytes unique: identical bytes would be stored once.
        note = f"{camera.username} {tick}".encode()
        jpeg = base[:2] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + base[2:]
        try:
            answer = session.put(camera.photo_url, data=jpeg, auth=camera.auth, timeout=30)
        except requests.RequestException as error:
            with lock:
                statuses[type(error).__name__] = statuses.get(type(error).__name__, 0) + 1
            return
        with lock:
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        if answer.status_code != 200 or camera.id not in moving or tick % every:
            return
        frame_id = answer.json()["frame_id"]
        ts = answer.json()["timestamp_us"]
        # The event is named after its key frame, so every channel's arrival names the same id.
        event = Event(event_id=frame_id, camera=camera.username, start_us=ts, end_us=ts, frame_count=1,
                      moving_frames=1, peak_score=5.0, key_frame_id=frame_id)
        record = EventRecord(Transition.START, event)
        producer.send(ACTIVITY, key=activity_key(record), value=activity_value(record)).get(10)
        with lock:
            sent[frame_id] = (started, time.time())

    with ThreadPoolExecutor(32) as pool:
        begin = time.time()
        for tick in range(int(args.seconds)):
            for camera in cameras:
                pool.submit(upload, camera, tick)
            time.sleep(max(0.0, begin + tick + 1 - time.time()))
    producer.close(10)
    print(f"uploads answered: {statuses}", flush=True)
    return sent


def summarize(args: argparse.Namespace, sent: dict[str, tuple[float, float]], arrivals: Arrivals) -> dict[str, Any]:
    latency: dict[str, list[float]] = {"upload_to_webhook": [], "upload_to_email": [], "produce_to_webhook": [],
                                       "produce_to_email": [], "baseline_produce_to_consumer": [],
                                       "upload_to_key_frame_stored": [], "key_frame_stored_to_webhook": [],
                                       "key_frame_stored_to_email": []}
    for frame_id, (uploaded, produced) in sent.items():
        for channel in ("webhook", "email"):
            if (arrived := arrivals.at[channel].get(frame_id)) is not None:
                latency[f"upload_to_{channel}"].append(arrived - uploaded)
                latency[f"produce_to_{channel}"].append(arrived - produced)
        if (arrived := arrivals.at["kafka"].get(frame_id)) is not None:
            latency["baseline_produce_to_consumer"].append(arrived - produced)
        if (stored := arrivals.at["stored"].get(frame_id)) is not None:
            latency["upload_to_key_frame_stored"].append(stored - uploaded)
            for channel in ("webhook", "email"):
                if (arrived := arrivals.at[channel].get(frame_id)) is not None:
                    latency[f"key_frame_stored_to_{channel}"].append(arrived - max(stored, produced))
    figures = {name: percentiles(values) for name, values in latency.items()}
    met = all((figures[name]["p50"] or 1e9) < P50_GOAL_S and (figures[name]["p99"] or 1e9) < P99_GOAL_S
              and figures[name]["n"] == len(sent) for name in ("upload_to_webhook", "upload_to_email"))
    return {"benchmark": "bench/alert_latency.py", "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "settings": vars(args) | {"out": str(args.out)},
            "alerts_sent": len(sent), "webhooks_received": len(arrivals.at["webhook"]),
            "emails_received": len(arrivals.at["email"]),
            "latency_s": figures, "goals_met": met}

if __name__ == "__main__":
    main()
