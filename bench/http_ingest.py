"""Throughput and latency of ingest_http, beside the raw kafka-python producer.

Starts its own Kafka (infra.kafka_server.KafkaServer in a temporary folder, unless --kafka
names one) and one `python -m ingest_http` process, then measures in one run:

1. Raw producer: the kafka-python producer of `sensr.broker.make_producer` (acks=all,
   idempotent, the service's settings) sending the same 100 KB frames with the same
   keys and headers, in the same concurrency pattern as the HTTP clients: 32 frames outstanding,
   each slot sending its next frame once the previous one is acknowledged. (A pipelined
   run, with no bound on outstanding frames, is printed for reference.)
2. Photo uploads: 32 keep-alive clients, each POSTing a 100 KB JPEG and waiting for the
   200 (which means acknowledged by Kafka) before the next. Goal: at least 0.5x (1).
   (1) and (2) take turns for a few rounds, as other work on the machine comes and goes.
3. MJPEG: 50 chunked streams at 10 fps each (paced by the clock) for ~20 s. Reports the
   sustained acknowledged frame rate and the server-side split-to-ack latency (the
   `sensr_frame_ack_seconds{edge="http",source="mjpeg"}` histogram: a frame is handed to
   the publisher the moment it is split out). Goal: p99 < 100 ms.

The HTTP clients run in a separate process (photo: threads on blocking sockets; MJPEG:
asyncio) so that they do not take the server's interpreter. Everything shares the
machine's cores with Kafka (and with whatever else runs there: the load average is
printed at the start and the end).

    python bench/http_ingest.py [--seconds 10] [--rounds 3] [--stream-seconds 20] [--kafka HOST:PORT]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.request import urlopen


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.kafka_server import KafkaServer  # noqa: E402
from infra.process import ManagedProcess  # noqa: E402
from launcher.service_stack import ServiceStack  # noqa: E402
from sensr.broker import FRAMES, ensure_topics, make_producer  # noqa: E402
from sensr.cameras import CameraLogin, publish_login  # noqa: E402
from sensr.frames import FrameEvent  # noqa: E402
from sensr.settings import CoreSettings, KafkaSettings  # noqa: E402
from workload.jpegs import camera_jpeg  # noqa: E402
from workload.metrics import sample  # noqa: E402

PHOTO_GOAL = 0.5
P99_GOAL = 0.100
PASSWORD = "bench-password"


def camera(kind: str, n: int) -> str:
    """Client `n`'s camera: every photo client and every stream uploads as a camera of its own."""
    return f"bench{kind}{n}"


def machine() -> str:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({model or platform.processor()}), {platform.platform()}, Python {platform.python_version()}"


# -- raw producer ------------------------------------------------------------------------------


def raw_producer_rate(bootstrap: str, frame: bytes, cameras: int, outstanding: int | None,
                      seconds: float) -> tuple[float, float]:
    """Acknowledged frames per second with at most `outstanding` unacknowledged (None: no
    bound), keyed by `cameras` cameras in turn; and this process's CPU seconds per frame."""
    producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap), client_id="bench-raw")
    producer.partitions_for(FRAMES)
    slots = threading.Semaphore(outstanding or 1_000_000)
    acked = [0]
    errors = [0]
    lock = threading.Lock()

    def done(_metadata: object) -> None:
        with lock:
            acked[0] += 1
        slots.release()

    def failed(_error: object) -> None:
        with lock:
            errors[0] += 1
        slots.release()

    try:
        for n in range(100):  # warm-up
            producer.send(FRAMES, key=camera("photo", n % cameras).encode(), value=frame)
        producer.flush()
        started, cpu_started = time.perf_counter(), time.process_time()
        deadline = started + seconds
        sent = 0
        while time.perf_counter() < deadline:
            slots.acquire()
            event = FrameEvent.new(camera("photo", sent % cameras), frame, "http", client="127.0.0.1")
            future = producer.send(FRAMES, key=event.key(), value=event.jpeg, headers=event.headers())
            future.add_callback(done)
            future.add_errback(failed)
            sent += 1
            if outstanding is None and sent % 2000 == 0:
                producer.flush()  # keep the unbounded run's memory in check
        producer.flush()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        producer.close()
    if errors[0]:
        print(f"  raw producer: {errors[0]} sends failed")
    return acked[0] / elapsed, cpu / max(acked[0], 1)


# -- HTTP clients (run in a child process) -----------------------------------------------------


def auth_header(username: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def photo_clients(port: int, frame: bytes, clients: int, warmup: float, seconds: float) -> dict:
    """`clients` threads, each with one keep-alive connection: POST, read the answer, repeat.

    Blocking sockets in threads: the kernel does the copying with the GIL released, so
    this costs the machine less than asyncio streams would (it shares the cores with the
    server and Kafka)."""
    start = time.monotonic()
    window = (start + warmup, start + warmup + seconds)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(n: int) -> None:
        username = camera("photo", n)
        upload = (f"POST /photo/{username} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth_header(username)}\r\n"
                  f"Content-Type: image/jpeg\r\nContent-Length: {len(frame)}\r\n\r\n").encode() + frame
        with socket.create_connection(("127.0.0.1", port)) as sock:
            while (now := time.monotonic()) < window[1]:
                sock.sendall(upload)
                status = _blocking_response(sock)
                finished = time.monotonic()
                if window[0] <= finished < window[1]:
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1
                        latencies.append(finished - now)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    ok = statuses.get(200, 0)
    return {"rate": ok / seconds, "statuses": statuses,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None}


def _blocking_response(sock: socket.socket) -> int:
    """Read one small response; return its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            raise ConnectionError("the server closed the connection")
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1])


async def stream_clients(port: int, frame: bytes, streams: int, fps: float, seconds: float) -> dict:
    part = f"--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: {len(frame)}\r\n\r\n".encode() + frame + b"\r\n"
    chunk = b"%x\r\n%s\r\n" % (len(part), part)

    def head(username: str) -> bytes:
        return (f"POST /upload/{username} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth_header(username)}\r\n"
                "Content-Type: multipart/x-mixed-replace;boundary=ffmpeg\r\nTransfer-Encoding: chunked\r\n\r\n").encode()

    count = int(fps * seconds)
    lags: list[float] = []
    answers: list[dict] = []

    async def stream(n: int, offset: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(camera("stream", n)))
        start = time.monotonic() + offset
        for n in range(count):
            due = start + n / fps
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            lags.append(time.monotonic() - due)
            writer.write(chunk)
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        status, body = await _read_response(reader)
        answers.append({"status": status, **json.loads(body)})
        writer.close()

    began = time.monotonic()
    await asyncio.gather(*(stream(n, random.random() / fps) for n in range(streams)))
    elapsed = time.monotonic() - began
    lags.sort()
    return {"sent": streams * count, "elapsed": elapsed, "answers": answers,
            "acked": sum(a.get("frames", 0) for a in answers),
            "statuses": sorted({a["status"] for a in answers}),
            "send_lag_p99_ms": 1000 * lags[int(len(lags) * 0.99)]}


def client_main(args: argparse.Namespace) -> None:
    if args.client == "photo":
        frame = camera_jpeg(args.frame_kb * 1000)
        result = photo_clients(args.port, frame, args.clients, args.warmup, args.seconds)
    else:
        frame = camera_jpeg(args.stream_frame_kb * 1000, seed=1)
        result = asyncio.run(stream_clients(args.port, frame, args.streams, args.fps, args.seconds))
    print(json.dumps(result))


def run_client(kind: str, port: int, args: argparse.Namespace, seconds: float) -> dict:
    argv = [sys.executable, __file__, "--client", kind, "--port", str(port), "--seconds", str(seconds),
            "--frame-kb", str(args.frame_kb), "--stream-frame-kb", str(args.stream_frame_kb), "--clients", str(args.clients), "--streams", str(args.streams),
            "--fps", str(args.fps), "--warmup", str(args.warmup)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 300, check=True)
    return json.loads(done.stdout)


# -- server side ---------------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(port: int, name: str, **labels: str) -> float:
    """The sum of the /metrics samples `name` with `labels` (0 when absent)."""
    return sample(urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode(), name, **labels)


def histogram(port: int, name: str, source: str) -> dict[float, float]:
    """Cumulative bucket counts of a histogram on /metrics, by upper bound."""
    text = urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    buckets = {}
    for line in text.splitlines():
        if line.startswith(f"{name}_bucket{{") and f'source="{source}"' in line:
            bound = line.split('le="')[1].split('"')[0]
            buckets[float("inf") if bound == "+Inf" else float(bound)] = float(line.split()[-1])
    return buckets


def quantile(before: dict[float, float], after: dict[float, float], q: float) -> tuple[float, float]:
    """The q-quantile (interpolated within its bucket) and the share at or below 100 ms."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1]
    within = (after.get(P99_GOAL, 0.0) - before.get(P99_GOAL, 0.0)) / total if total else 0.0
    target, lower, below = q * total, 0.0, 0.0
    for bound, cumulative in zip(bounds, counts):
        if cumulative >= target:
            if bound == float("inf"):
                return lower, within
            share = (target - below) / (cumulative - below) if cumulative > below else 1.0
            return lower + share * (bound - lower), within
        lower, below = bound, cumulative
    return lower, within


def start_service(bootstrap: str, folder: Path) -> tuple[ManagedProcess, int]:
    """ingest_http against `bootstrap`, ready; its process and port."""
    stack = ServiceStack(bootstrap, folder, services=("ingest_http",), overrides={"SENSR_LOG_LEVEL": "WARNING"})
    stack.start(timeout=90)
    return stack.processes["ingest_http"], stack.http_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per raw producer or photo run")
    parser.add_argument("--rounds", type=int, default=3, help="raw producer / photo upload rounds")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each photo run")
    parser.add_argument("--stream-seconds", type=float, default=20.0)
    parser.add_argument("--frame-kb", type=int, default=100, help="photo (and raw producer) frame size")
    parser.add_argument("--stream-frame-kb", type=int, help="MJPEG frame size (default: --frame-kb)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--kafka", help="use this Kafka instead of starting one")
    parser.add_argument("--client", choices=("photo", "stream"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.stream_frame_kb = args.stream_frame_kb or args.frame_kb
    if args.client:
        client_main(args)
        return

    frame = camera_jpeg(args.frame_kb * 1000)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start (other work shares the cores)")
    print(f"photo frames: {len(frame)} bytes JPEG, {args.clients} clients; MJPEG frames: "
          f"{len(camera_jpeg(args.stream_frame_kb * 1000, seed=1))} bytes, {args.streams} streams x {args.fps:g} fps")
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sensr-bench-http-")))
        bootstrap = args.kafka
        if not bootstrap:
            broker = KafkaServer(folder / "kafka", heap="1g")
            broker.start()
            stack.callback(broker.stop)
            bootstrap = broker.bootstrap
        ensure_topics(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap))
        producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap))
        for name in [camera("photo", n) for n in range(args.clients)] + [camera("stream", n) for n in range(args.streams)]:
            publish_login(producer, CameraLogin.create(name, name, "bench", PASSWORD))
        producer.close()

        service, port = start_service(bootstrap, folder)
        stack.callback(service.stop)
        pipelined, _ = raw_producer_rate(bootstrap, frame, args.clients, None, args.seconds / 2)
        print(f"raw producer, pipelined (no bound, reference): {pipelined:.0f} frames/s")
        # Raw producer and photo uploads take turns, so that a change in the load others
        # put on the machine hits both alike; the ratio is taken over all rounds. CPU time
        # per frame is printed too: unlike rates, it hardly depends on that load.
        raw_rates, photo_rates, raw_cpu, photo_cpu = [], [], [], []
        uploads = {"edge": "http", "source": "http", "outcome": "stored"}
        for round_ in range(1, args.rounds + 1):
            rate, cpu = raw_producer_rate(bootstrap, frame, args.clients, args.clients, args.seconds)
            raw_rates.append(rate)
            raw_cpu.append(cpu)
            cpu_before, uploads_before = process_cpu(service.pid or 0), metric(port, "sensr_frames_published_total", **uploads)
            photos = run_client("photo", port, args, args.seconds)
            photo_rates.append(photos["rate"])
            photo_cpu.append((process_cpu(service.pid or 0) - cpu_before) / max(metric(port, "sensr_frames_published_total", **uploads) - uploads_before, 1))
            print(f"round {round_}: raw producer ({args.clients} outstanding, each slot awaiting its ack) "
                  f"{raw_rates[-1]:.0f} frames/s ({1000 * cpu:.2f} ms CPU/frame); photo uploads ({args.clients} "
                  f"keep-alive clients) {photos['rate']:.0f} uploads/s ({1000 * photo_cpu[-1]:.2f} ms service CPU/upload, "
                  f"statuses {photos['statuses']}, latency p50 {photos['p50_ms']:.1f} ms, p99 {photos['p99_ms']:.1f} ms); "
                  f"ratio {photos['rate'] / raw_rates[-1]:.2f}")
        ratio = sum(photo_rates) / sum(raw_rates)
        print(f"photo uploads / raw producer over {args.rounds} rounds: {sum(photo_rates) / args.rounds:.0f} / "
              f"{sum(raw_rates) / args.rounds:.0f} = {ratio:.2f} (goal >= {PHOTO_GOAL}) -> "
              f"{'MET' if ratio >= PHOTO_GOAL else 'NOT MET'}")
        upload_cpu = sorted(photo_cpu)[len(photo_cpu) // 2]
        print(f"  CPU per frame, median: raw producer {1000 * sorted(raw_cpu)[len(raw_cpu) // 2]:.2f} ms, "
              f"service {1000 * upload_cpu:.2f} ms (one interpreter: at most ~{1 / upload_cpu:.0f} uploads/s "
              "with a whole core to itself)")

        before = histogram(port, "sensr_frame_ack_seconds", "mjpeg")
        streams = run_client("stream", port, args, args.stream_seconds)
        after = histogram(port, "sensr_frame_ack_seconds", "mjpeg")
        p99, within = quantile(before, after, 0.99)
        p50, _ = quantile(before, after, 0.50)
        fps = streams["acked"] / streams["elapsed"]
        target = args.streams * args.fps
        print(f"MJPEG, {args.streams} streams x {args.fps:g} fps for {args.stream_seconds:g} s: "
              f"{streams['acked']}/{streams['sent']} frames acknowledged, {fps:.0f} fps sustained (target {target:.0f}); "
              f"statuses {streams['statuses']}; client send lag p99 {streams['send_lag_p99_ms']:.1f} ms")
        print(f"  split-to-ack (server): p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms, "
              f"{100 * within:.2f}% within 100 ms (goal p99 < 100 ms) -> {'MET' if p99 < P99_GOAL else 'NOT MET'}")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
