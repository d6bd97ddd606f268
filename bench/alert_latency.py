"""Alert latency: a camera's upload to the webhook and the e-mail it causes, with the
whole stack running and the real activity worker deciding what is motion.

    python bench/alert_latency.py [--seconds 90] [--cameras 100] [--moving 10]
                                  [--database sqlite|postgresql]

Runs on the Kafka and SeaweedFS named by `SENSR_TEST_KAFKA_BOOTSTRAP` /
`SENSR_TEST_S3_ENDPOINT` (the test harness's variables), or on its own native ones
(infra/) when they are unset. Starts the services (api, ingest_http, catalog_worker,
activity_worker, notifier; SQLite index, or a PostgreSQL of its own), an SMTP server
(aiosmtpd) and a webhook receiver (Tornado) on 127.0.0.1. Creates `--cameras` cameras
through the API; the `--moving` ones get a 2 s event gap and two alert rules each
(webhook and e-mail, no spacing), through the API. Then for `--seconds` every camera
uploads one 640x480 photo a second (HTTP PUT, one keep-alive connection per camera: the
scene of bench/activity_latency.py, a textured still picture with sensor noise, encoded
before the run); in the
moving cameras' pictures an object (1 % of the frame) moves for `BURST` seconds, then
the scene is still for `QUIET` seconds, so each burst is a new event, staggered across
cameras. Nothing is produced to `sensr.activity` by this script: the activity worker
scores the uploads and opens the events.

Latencies per event start (the frame that opens the event is its key frame; a reader
of `sensr.activity` and `sensr.catalog` says when its record and its storing came):
upload start -> webhook received / e-mail received (the goal); upload -> activity record
read and upload -> key frame stored (baselines in the same run: what the activity
worker and the catalog worker take before the notifier can act; an e-mail no longer waits for the key frame's
storing: it reads the frame from Kafka where the record says); and from the record to
received: the notifier's own share. Goals: upload-to-received p50 < 1 s,
p99 < 3 s, every event start alerted on both channels. Writes
`bench/results/alert_latency.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

from activity_latency import BOX, SIZE, Scene
from e2e_latency import basic, paced, read_http_response
from scanner_throughput import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.postgres import PostgresCluster  # noqa: E402
from infra.process import free_port  # noqa: E402
from launcher.servers import kafka_and_s3  # noqa: E402
from launcher.service_stack import LOOPBACK_LOAD, ServiceStack  # noqa: E402
from sensr.activity import EventRecord, Transition, decode_activity_record  # noqa: E402
from sensr.broker import ACTIVITY, CATALOG, make_consumer  # noqa: E402
from sensr.catalog_event import decode_catalog_event  # noqa: E402
from sensr.settings import CoreSettings, KafkaSettings  # noqa: E402
from workload.api_client import ApiClient, CameraLogin  # noqa: E402

RESULTS = ROOT / "bench" / "results"
P50_GOAL_S, P99_GOAL_S = 1.0, 3.0
WARMUP = 15  # seconds before a moving camera's first burst (the motion model's baseline, the stack settling)
BURST = 3  # seconds an object moves
QUIET = 5  # seconds still between bursts: more than the moving cameras' event gap
EVENT_GAP_SECONDS = 2.0


class Arrivals:
    """When things arrived, by key frame id (wall clock: the services and this script share
    the machine, so one clock serves both ends): the webhook, the e-mail, the event's
    start record, the key frame's storing; and each event start's camera and start time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[str, dict[str, float]] = {"webhook": {}, "email": {}, "record": {}, "stored": {}}
        self.starts: dict[str, tuple[str, int]] = {}

    def mark(self, what: str, key_frame_id: str) -> None:
        with self.lock:
            self.at[what].setdefault(key_frame_id, time.time())

    def started(self, record: EventRecord) -> None:
        with self.lock:
            self.at["record"].setdefault(record.event.key_frame_id, time.time())
            self.starts.setdefault(record.event.key_frame_id, (record.event.camera, record.event.start_us))


def key_frame_of(link: str) -> str:
    """The key frame id that ends an alert's link (`.../cameras/<id>/frames/<frame id>`)."""
    return link.strip().rsplit("/", 1)[1]


class _Hook(RequestHandler):
    def initialize(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals

    def post(self) -> None:
        body = json.loads(self.request.body)
        if body["type"] == "motion.start":
            self.arrivals.mark("webhook", key_frame_of(body["data"]["link"]))
        self.finish()


class _Mailbox:
    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        # The plain-text body ends with the link, whose last part is the key frame's id.
        text = envelope.content.decode(errors="replace") if isinstance(envelope.content, bytes) else envelope.content
        for line in text.splitlines():
            if "/frames/" in line and line.startswith("http"):
                self.arrivals.mark("email", key_frame_of(line))
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


def follow_topics(bootstrap: str, cameras: set[str], arrivals: Arrivals, stop: threading.Event) -> threading.Thread:
    """The baseline reader: a plain consumer of `sensr.activity` (each event start of the
    moving cameras) and `sensr.catalog` (when each frame was stored)."""
    consumer = make_consumer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap), ACTIVITY, CATALOG,
                             group_id=None, auto_offset_reset="latest", fetch_max_wait_ms=10)
    consumer.poll(timeout_ms=2000)  # join: partitions assigned, positions at the end

    def run() -> None:
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=100).values():
                for record in records:
                    if record.topic == CATALOG:
                        arrivals.mark("stored", decode_catalog_event(record.key, record.value).frame_id)
                        continue
                    decoded = decode_activity_record(record.key, record.value)
                    if (isinstance(decoded, EventRecord) and decoded.transition is Transition.START
                            and decoded.event.camera in cameras):
                        arrivals.started(decoded)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--cameras", type=int, default=100)
    parser.add_argument("--moving", type=int, default=10)
    parser.add_argument("--drain", type=float, default=30, help="most seconds to wait for alerts after the uploads")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the index database (and delivery log): SQLite file, or a PostgreSQL of its own")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (services' logs) and say where")
    args = parser.parse_args()
    print(machine(), f"; load average {os.getloadavg()[0]:.2f}", flush=True)

    arrivals = Arrivals()
    with ExitStack() as cleanup:
        folder = Path(tempfile.mkdtemp(prefix="sensr-bench-alerts-"))
        if args.keep:
            print(f"keeping {folder}", flush=True)
        else:
            cleanup.callback(lambda: __import__("shutil").rmtree(folder, ignore_errors=True))
        bootstrap, s3 = kafka_and_s3(cleanup, folder)
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
        stack = ServiceStack(bootstrap, folder / "data", s3,
                             services=("api", "ingest_http", "catalog_worker", "activity_worker", "notifier"),
                             overrides={**LOOPBACK_LOAD, "SENSR_LOG_LEVEL": "WARNING",
                                        "SENSR_SMTP_HOST": "127.0.0.1", "SENSR_SMTP_PORT": str(smtp_port),
                                        "SENSR_SMTP_SECURITY": "plain",
                                        "SENSR_NOTIFIER_ALLOWED_NETWORKS": "127.0.0.0/8", **database}).start()
        cleanup.callback(stack.stop)
        user = ApiClient(stack.api_url)
        cameras = [user.create_camera(f"Camera {n}") for n in range(args.cameras)]
        moving = cameras[:args.moving]
        for camera in moving:
            changed = user.session.patch(user.url(f"/cameras/{camera.id}"),
                                         json={"event_gap_seconds": EVENT_GAP_SECONDS}, timeout=30)
            assert changed.status_code == 200, changed.text
            for rule in ({"channel": "webhook", "target": f"http://127.0.0.1:{hook_port}/hook"},
                         {"channel": "email", "target": "owner@example.org"}):
                answer = user.session.post(user.url(f"/cameras/{camera.id}/alerts"),
                                           json={**rule, "spacing_seconds": 0, "on_offline": False,
                                                 "on_online": False}, timeout=30)
                assert answer.status_code == 201, answer.text
        stop = threading.Event()
        baseline = follow_topics(bootstrap, {camera.username for camera in moving}, arrivals, stop)
        print(f"stack up; {args.cameras} cameras x 1 fps, {args.moving} in motion, {args.seconds:g} s", flush=True)
        began = time.time()
        sent, statuses = asyncio.run(run_load(args, cameras, {camera.username for camera in moving}))
        print(f"uploads answered: {statuses}", flush=True)
        deadline = time.time() + args.drain
        while time.time() < deadline and not all(set(arrivals.starts) == set(arrivals.at[channel])
                                                  for channel in ("webhook", "email")):
            time.sleep(0.2)  # until every event start read is alerted, and the reader has read every alerted one
        stop.set()
        baseline.join(5)
        load = os.getloadavg()

    report = summarize(args, sent, arrivals) | {"machine": machine(), "load_average_end": [round(v, 2) for v in load],
                                                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(began))}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "alert_latency.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"event starts {report['event_starts']}, webhooks {report['webhooks_received']}, "
          f"e-mails {report['emails_received']}; load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for name, figures in report["latency_s"].items():
        print(f"{name:32s} n={figures['n']:4d}  p50={figures['p50']}  p99={figures['p99']}  max={figures['max']}")
    print(f"goals (upload to received: p50 < {P50_GOAL_S:g} s, p99 < {P99_GOAL_S:g} s, every start alerted): "
          f"{'met' if report['goals_met'] else 'MISSED'}; wrote {args.out / 'alert_latency.json'}")
    return 0 if report["goals_met"] else 1


def box_at(step: int) -> tuple[int, int]:
    """Where a moving camera's object is at `step` seconds into a burst (top-left corner)."""
    return 20 + step * (SIZE[0] - BOX[0] - 40) // BURST, 100 + 30 * (step % 3)


class Pictures:
    """Each camera's pictures, encoded before the run so that making them does not compete
    with the stack for the CPU: `VARIANTS` noisy stills of its scene (one of `SCENES`), and
    for a moving camera the same with the object at each step of a burst. Each upload adds
    a unique JPEG comment (the catalog's duplicate rule would keep identical bytes once)."""

    SCENES, VARIANTS = 10, 4

    def __init__(self, moving: int) -> None:
        scenes = [Scene(n) for n in range(self.SCENES)]
        self.still = [[scene.jpeg(v, b"", None) for v in range(self.VARIANTS)] for scene in scenes]
        self.moving = [[[scenes[n % self.SCENES].jpeg(v, b"", box_at(step)) for v in range(2)]
                        for step in range(BURST)] for n in range(moving)]

    def jpeg(self, index: int, seq: int, step: int | None, tag: bytes) -> bytes:
        data = (self.still[index % self.SCENES][seq % self.VARIANTS] if step is None
                else self.moving[index][step][seq % 2])
        return data[:2] + b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag + data[2:]


def burst_step(seconds: float, offset: float) -> int | None:
    """Which step of a burst a moving camera is at `seconds` into the run (None: still)."""
    t = seconds - WARMUP - offset
    return None if t < 0 or t % (BURST + QUIET) >= BURST else int(t % (BURST + QUIET))


async def run_load(args: argparse.Namespace, cameras: list[CameraLogin],
                   moving: set[str]) -> tuple[dict[tuple[str, int], float], dict[str, int]]:
    """Every camera uploads a photo a second for `--seconds`, on one keep-alive connection
    (opened again if the edge closes it, as a camera does). Returns (camera, Sensr
    timestamp) -> when its upload began, and the count of each answer."""
    sent: dict[tuple[str, int], float] = {}
    statuses: dict[str, int] = {}
    pictures = Pictures(len(moving))
    start = time.monotonic()

    def count(what: str) -> None:
        statuses[what] = statuses.get(what, 0) + 1

    async def camera_uploads(index: int, camera: CameraLogin) -> None:
        offset = (index % 10) * (BURST + QUIET) / 10  # staggered bursts
        head = (f"PUT /photo/{camera.username} HTTP/1.1\r\nHost: {camera.host}\r\nAuthorization: {basic(camera)}"
                f"\r\nContent-Type: image/jpeg\r\nContent-Length: ").encode()
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        async for seq in paced(1.0, args.seconds, random.random(), start):
            step = burst_step(time.monotonic() - start, offset) if camera.username in moving else None
            jpeg = pictures.jpeg(index, seq, step, f"{camera.username} {seq}".encode())
            try:
                connection = connection or await asyncio.open_connection(camera.host, camera.http_port)
                reader, writer = connection
                began = time.time()
                writer.write(head + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg)
                await writer.drain()
                status, body = await read_http_response(reader)
            except (OSError, asyncio.IncompleteReadError) as error:
                count(type(error).__name__)
                if connection is not None:
                    connection[1].close()
                connection = None
                continue
            count(str(status))
            if status == 200:
                sent[(camera.username, int(json.loads(body)["timestamp_us"]))] = began
        if connection is not None:
            connection[1].close()

    await asyncio.gather(*(camera_uploads(n, camera) for n, camera in enumerate(cameras)))
    return sent, statuses


def summarize(args: argparse.Namespace, sent: dict[tuple[str, int], float], arrivals: Arrivals) -> dict[str, Any]:
    names = ("upload_to_webhook", "upload_to_email", "upload_to_activity_record", "upload_to_key_frame_stored",
             "notifier_share_webhook", "notifier_share_email")
    latency: dict[str, list[float]] = {name: [] for name in names}
    at = arrivals.at
    for key_frame_id, (camera, start_us) in arrivals.starts.items():
        uploaded = sent.get((camera, start_us))
        if uploaded is None:
            continue
        record, stored = at["record"][key_frame_id], at["stored"].get(key_frame_id)
        latency["upload_to_activity_record"].append(record - uploaded)
        if stored is not None:
            latency["upload_to_key_frame_stored"].append(stored - uploaded)
        # What the notifier waits for: the record (an e-mail reads its key frame from Kafka).
        for channel in ("webhook", "email"):
            if (arrived := at[channel].get(key_frame_id)) is not None:
                latency[f"upload_to_{channel}"].append(arrived - uploaded)
                latency[f"notifier_share_{channel}"].append(arrived - record)
    figures = {name: percentiles(values) for name, values in latency.items()}
    starts = len(arrivals.starts)
    met = starts > 0 and all((figures[name]["p50"] or 1e9) < P50_GOAL_S and (figures[name]["p99"] or 1e9) < P99_GOAL_S
                             and figures[name]["n"] == starts for name in ("upload_to_webhook", "upload_to_email"))
    return {"benchmark": "bench/alert_latency.py", "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "settings": vars(args) | {"out": str(args.out)}, "event_starts": starts,
            "webhooks_received": len(at["webhook"]), "emails_received": len(at["email"]),
            "latency_s": figures, "goals_met": met}


if __name__ == "__main__":
    sys.exit(main())
