"""End-to-end latency and throughput of the whole stack, per ingest path.

    python bench/e2e_latency.py [--seconds 30] [--cameras 100] [--ramp 150,200,250,300,400,600]
                                [--step-seconds 8] [--live-viewers 10] [--frame-kb 50]

Starts its own Kafka and SeaweedFS (infra/, temporary folders) and the four services
(`python -m ...`, SQLite index), signs up a user and creates `--cameras` cameras
through the API. Then, for each ingest path (HTTP photo PUT as curl sends it, an MJPEG
stream per camera as ffmpeg sends it, FTP STOR in passive mode on one session per
camera), it measures:

- steady load: `--cameras` cameras at 1 frame/s each for `--seconds`;
- ramp: the same cameras at higher rates (`--ramp`, total frames/s, `--step-seconds`
  each) until a step is not sustained; the highest sustained load (steady or ramp step)
  is reported.
  Sustained: at least 95 % of the offered frames acknowledged, none refused, every
  acknowledged frame listed within the drain time, and upload-to-listed p95 < 1 s.

For every frame (each camera's frames differ in size, which identifies them):

- ack: upload start -> 200 (photo) / 226 (FTP); for MJPEG there is no per-frame answer;
- listed: upload start -> the frame's `event: frame` on the camera's Server-Sent Events
  stream (`/api/v1/cameras/<id>/events`, sent once the frame is stored, indexed and
  listable), read by one SSE client per camera;
- live: upload start -> the frame's last byte on `live.mjpg`, watched for the first
  `--live-viewers` cameras.

"Upload start" is when the client begins sending the frame (photo: the request; MJPEG:
the frame's first byte on the open stream; FTP: the PASV before STOR). Clients and
services share this machine, so one clock serves both ends. CPU use per process (percent
of one core; "whole machine" is all processes, at most cores x 100) comes from psutil over
each phase, drain included. Writes `bench/results/e2e_latency.json`
and `bench/results/e2e_latency.png` (drawn with Pillow).

Goals on a 2-core machine: upload-to-listed p99 < 500 ms at 100 frames/s; upload-to-live
p50 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import math
import os
import platform
import random
import re
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.kafka_server import KafkaServer  # noqa: E402
from infra.seaweedfs import SeaweedS3  # noqa: E402
from sensr.broker import ensure_topics  # noqa: E402
from sensr.settings import CoreSettings, KafkaSettings  # noqa: E402
from launcher.service_stack import LOOPBACK_LOAD, S3Endpoint, ServiceStack, passive_port_range  # noqa: E402
from workload.api_client import ApiClient, CameraLogin  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PATHS = ("photo", "mjpeg", "ftp")
LISTED_P99_GOAL_MS = 500.0
LIVE_P50_GOAL_MS = 50.0
SEQ_SPAN = 500
PHASE_TAG = len("phase 000000 ")
"""Frames per camera per phase stay below this: (phase, seq) -> a unique frame size."""


# -- frames --------------------------------------------------------------------------------------

def base_jpeg(kb: int) -> bytes:
    """A 640x480 camera-like JPEG of about `kb` KB."""
    rng = random.Random(7)
    base = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    noise = Image.frombytes("RGB", (80, 60), rng.randbytes(80 * 60 * 3)).resize((640, 480))
    image = Image.blend(base, noise, 0.45)
    best = b""
    for quality in range(30, 96, 5):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        best = out.getvalue()
        if len(best) >= kb * 1024:
            break
    return best


class Frames:
    """Frame `seq` of phase `phase`: the base JPEG with a comment segment that names the
    phase (so no frame repeats an earlier phase's bytes: the catalog would store it once)
    and whose length makes its size unique within a camera and phase."""

    def __init__(self, kb: int) -> None:
        self.base = base_jpeg(kb)

    def padding(self, phase: int, seq: int) -> int:
        return (phase % 8) * SEQ_SPAN + seq

    def make(self, phase: int, seq: int) -> bytes:
        body = f"phase {phase:06d} ".encode() + b"s" * self.padding(phase, seq)
        segment = b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body
        return self.base[:2] + segment + self.base[2:]

    def size(self, phase: int, seq: int) -> int:
        return len(self.base) + 4 + PHASE_TAG + self.padding(phase, seq)


# -- measurements ----------------------------------------------------------------------------------

@dataclass
class Sent:
    t0: float
    ack: float | None = None
    listed: float | None = None
    live: float | None = None
    refused: str | None = None


@dataclass
class Phase:
    """One run of one path at one rate: every frame sent, keyed by (camera index, size)."""

    number: int
    path: str
    rate: float
    seconds: float
    frames: dict[tuple[int, int], Sent] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    def sent(self, camera: int, size: int) -> Sent:
        record = Sent(time.monotonic())
        self.frames[(camera, size)] = record
        return record


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)
    return {"count": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99),
            "max": round(ordered[-1] * 1000, 1)}


# -- clients (asyncio, raw sockets: a light load generator) ----------------------------------------

def basic(camera: CameraLogin) -> str:
    return "Basic " + base64.b64encode(f"{camera.username}:{camera.password}".encode()).decode()


async def read_http_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?i)content-length:\s*(\d+)", head)
    body = await reader.readexactly(int(match.group(1))) if match else b""
    return status, body


async def paced(rate: float, seconds: float, offset: float, start: float):  # type: ignore[no-untyped-def]
    """Yield seq numbers at `rate` per second from `start + offset` for `seconds`."""
    seq = 0
    while True:
        due = start + offset + seq / rate
        if due >= start + seconds:
            return
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        yield seq
        seq += 1


async def photo_camera(index: int, camera: CameraLogin, phase: Phase, frames: Frames, rate: float,
                       start: float) -> None:
    reader, writer = await asyncio.open_connection(camera.host, camera.http_port)
    head = (f"PUT /photo/{camera.username} HTTP/1.1\r\nHost: {camera.host}\r\nAuthorization: {basic(camera)}\r\n"
            f"Content-Type: image/jpeg\r\nContent-Length: ").encode()
    try:
        async for seq in paced(rate, phase.seconds, random.random() / rate, start):
            jpeg = frames.make(phase.number, seq)
            record = phase.sent(index, len(jpeg))
            writer.write(head + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg)
            await writer.drain()
            status, body = await read_http_response(reader)
            if status == 200:
                record.ack = time.monotonic()
            else:
                record.refused = str(status)
                phase.errors.append(f"photo {status} {body[:80]!r}")
    except (OSError, asyncio.IncompleteReadError) as error:
        phase.errors.append(f"photo connection: {error!r}")
    finally:
        writer.close()


async def mjpeg_camera(index: int, camera: CameraLogin, phase: Phase, frames: Frames, rate: float,
                       start: float) -> None:
    reader, writer = await asyncio.open_connection(camera.host, camera.http_port)
    writer.write((f"POST /upload/{camera.username} HTTP/1.1\r\nHost: {camera.host}\r\n"
                  f"Authorization: {basic(camera)}\r\nContent-Type: multipart/x-mixed-replace;boundary=ffmpeg\r\n"
                  f"Transfer-Encoding: chunked\r\n\r\n").encode())
    records = []
    try:
        first = True
        async for seq in paced(rate, phase.seconds, random.random() / rate, start):
            jpeg = frames.make(phase.number, seq)
            part = ((b"--ffmpeg\r\n" if first else b"") + b"Content-type: image/jpeg\r\nContent-length: %d\r\n\r\n"
                    % len(jpeg) + jpeg + b"\r\n--ffmpeg\r\n")
            first = False
            records.append(phase.sent(index, len(jpeg)))
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        status, body = await read_http_response(reader)
        stored = json.loads(body).get("frames", 0) if status == 200 else 0
        if status != 200 or stored != len(records):
            phase.errors.append(f"mjpeg {status}: {stored} of {len(records)} stored {body[:120]!r}")
        now = time.monotonic()
        for record in records[:stored]:
            record.ack = now  # acknowledged as a whole at the end of the stream
    except (OSError, asyncio.IncompleteReadError) as error:
        phase.errors.append(f"mjpeg connection: {error!r}")
    finally:
        writer.close()


class FtpControl:
    """A minimal FTP client on asyncio: one control connection, passive STORs."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def login(cls, camera: CameraLogin) -> FtpControl:
        reader, writer = await asyncio.open_connection(camera.host, camera.ftp_port)
        control = cls(reader, writer)
        await control.expect("220")
        await control.command(f"USER {camera.username}", "331")
        await control.command(f"PASS {camera.password}", "230")
        await control.command("TYPE I", "200")
        return control

    async def reply(self) -> str:
        line = (await self.reader.readuntil(b"\r\n")).decode("utf-8", "replace")
        if line[3:4] == "-":  # multi-line: until "ddd "
            code = line[:3]
            while True:
                more = (await self.reader.readuntil(b"\r\n")).decode("utf-8", "replace")
                if more.startswith(code + " "):
                    return more
        return line

    async def expect(self, code: str) -> str:
        answer = await self.reply()
        if not answer.startswith(code):
            raise RuntimeError(f"expected {code}, got {answer.strip()}")
        return answer

    async def command(self, line: str, code: str) -> str:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()
        return await self.expect(code)

    async def store(self, name: str, data: bytes) -> str:
        answer = await self.command("PASV", "227")
        numbers = [int(n) for n in re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", answer).groups()]  # type: ignore[union-attr]
        host, port = ".".join(map(str, numbers[:4])), numbers[4] * 256 + numbers[5]
        _data_reader, data_writer = await asyncio.open_connection(host, port)
        self.writer.write(f"STOR {name}\r\n".encode())
        await self.writer.drain()
        await self.expect("150")
        data_writer.write(data)
        await data_writer.drain()
        data_writer.close()
        await data_writer.wait_closed()
        return await self.reply()

    def close(self) -> None:
        self.writer.close()


async def ftp_camera(index: int, camera: CameraLogin, phase: Phase, frames: Frames, rate: float,
                     start: float) -> None:
    try:
        control = await FtpControl.login(camera)
    except (OSError, RuntimeError, asyncio.IncompleteReadError) as error:
        phase.errors.append(f"ftp login: {error!r}")
        return
    try:
        async for seq in paced(rate, phase.seconds, random.random() / rate, start):
            jpeg = frames.make(phase.number, seq)
            record = phase.sent(index, len(jpeg))
            answer = await control.store(f"p{phase.number}_{seq:05d}.jpg", jpeg)
            if answer.startswith("226"):
                record.ack = time.monotonic()
            else:
                record.refused = answer[:3]
                phase.errors.append(f"ftp {answer.strip()[:80]}")
    except (OSError, RuntimeError, asyncio.IncompleteReadError) as error:
        phase.errors.append(f"ftp: {error!r}")
    finally:
        control.close()


UPLOADERS = {"photo": photo_camera, "mjpeg": mjpeg_camera, "ftp": ftp_camera}


# -- watchers: SSE (listed) and live.mjpg (live) ---------------------------------------------------

class Watchers:
    """One SSE stream per camera and `live.mjpg` for the first few; they mark frames of
    the current phase as listed / seen live."""

    def __init__(self, api_port: int, token: str, cameras: list[CameraLogin], live_viewers: int) -> None:
        self.api_port, self.token, self.cameras, self.live_viewers = api_port, token, cameras, live_viewers
        self.phase: Phase | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.ready = 0
        self.unmatched = 0
        self.last_event = time.monotonic()

    async def start(self) -> None:
        for index, camera in enumerate(self.cameras):
            self.tasks.append(asyncio.create_task(self._events(index, camera)))
            if index < self.live_viewers:
                self.tasks.append(asyncio.create_task(self._live(index, camera)))
        wanted = len(self.cameras) + min(self.live_viewers, len(self.cameras))
        deadline = time.monotonic() + 60
        while self.ready < wanted:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.ready} of {wanted} watchers connected")
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def quiet(self, seconds: float = 2.0, longest: float = 60.0) -> None:
        """Until no frame was listed for `seconds` (the catalog has caught up), at most `longest`."""
        deadline = time.monotonic() + longest
        while time.monotonic() - self.last_event < seconds and time.monotonic() < deadline:
            await asyncio.sleep(0.2)

    def _mark(self, index: int, size: int, what: str) -> None:
        if what == "listed":
            self.last_event = time.monotonic()
        phase = self.phase
        record = phase.frames.get((index, size)) if phase else None
        if record is None:
            self.unmatched += 1
            return
        setattr(record, what, time.monotonic())

    async def _get(self, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.api_port)
        writer.write(f"GET /api/v1{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n\r\n"
                     .encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"{path}: {head[:100]!r}")
        return reader, writer

    async def _chunks(self, reader: asyncio.StreamReader):  # type: ignore[no-untyped-def]
        """The body of a chunked response, chunk by chunk."""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                return
            yield await reader.readexactly(size)
            await reader.readexactly(2)

    async def _events(self, index: int, camera: CameraLogin) -> None:
        reader, writer = await self._get(f"/cameras/{camera.id}/events")
        self.ready += 1
        buffer = b""
        try:
            async for chunk in self._chunks(reader):
                buffer += chunk
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    for line in event.split(b"\n"):
                        if line.startswith(b"data: "):
                            self._mark(index, json.loads(line[6:])["size"], "listed")
        finally:
            writer.close()

    async def _live(self, index: int, camera: CameraLogin) -> None:
        reader, writer = await self._get(f"/cameras/{camera.id}/live.mjpg")
        self.ready += 1
        buffer = b""
        try:
            async for chunk in self._chunks(reader):
                buffer += chunk
                while True:
                    head_end = buffer.find(b"\r\n\r\n")
                    match = re.search(rb"Content-Length: (\d+)", buffer[:head_end]) if head_end >= 0 else None
                    if not match or len(buffer) < head_end + 4 + int(match.group(1)):
                        break
                    size = int(match.group(1))
                    self._mark(index, size, "live")
                    buffer = buffer[head_end + 4 + size:]
        finally:
            writer.close()


# -- CPU ---------------------------------------------------------------------------------------------

class CpuMeter:
    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {}
        for name, pid in pids.items():
            try:
                self.procs[name] = psutil.Process(pid)
            except psutil.Error:
                pass

    def _times(self) -> dict[str, float]:
        out = {}
        for name, proc in self.procs.items():
            try:
                total = proc.cpu_times()  # the process itself (not its children)
                out[name] = total.user + total.system
            except psutil.Error:
                out[name] = 0.0
        return out

    def start(self) -> None:
        self._start, self._t = self._times(), time.monotonic()
        self._machine = psutil.cpu_times()

    def stop(self) -> dict[str, float]:
        end, wall = self._times(), time.monotonic() - self._t
        usage = {name: round(100 * (end[name] - self._start.get(name, 0.0)) / wall, 1) for name in end}
        machine = psutil.cpu_times()
        busy = sum(getattr(machine, f) - getattr(self._machine, f) for f in ("user", "system", "nice", "irq",
                                                                              "softirq", "steal"))
        usage["whole machine"] = round(100 * busy / wall, 1)  # percent of one core; all cores: cores x 100
        return usage


# -- running phases -------------------------------------------------------------------------------------

async def run_phase(number: int, path: str, rate_total: float, seconds: float, cameras: list[CameraLogin],
                    frames: Frames, watchers: Watchers, cpu: CpuMeter, drain: float = 8.0) -> dict[str, Any]:
    per_camera = rate_total / len(cameras)
    phase = Phase(number, path, rate_total, seconds)
    watchers.phase = phase
    cpu.start()
    phase.started = time.monotonic()
    start = phase.started + 0.2
    await asyncio.gather(*(UPLOADERS[path](i, camera, phase, frames, per_camera, start)
                           for i, camera in enumerate(cameras)))
    phase.ended = time.monotonic()
    deadline = phase.ended + drain
    while time.monotonic() < deadline:
        acked = [r for r in phase.frames.values() if r.ack is not None]
        if all(r.listed is not None for r in acked) and all(
                r.live is not None for (i, _), r in phase.frames.items() if i < watchers.live_viewers and r.ack):
            break
        await asyncio.sleep(0.2)
    usage = cpu.stop()
    return summarize(phase, usage, watchers.live_viewers)


def summarize(phase: Phase, cpu: dict[str, float], live_viewers: int) -> dict[str, Any]:
    records = list(phase.frames.values())
    acked = [r for r in records if r.ack is not None]
    listed = [r for r in acked if r.listed is not None]
    span = max(phase.seconds, 1e-9)
    result = {
        "path": phase.path,
        "offered_fps": phase.rate,
        "seconds": phase.seconds,
        "sent": len(records),
        "acked": len(acked),
        "acked_fps": round(len(acked) / span, 1),
        "refused": sum(1 for r in records if r.refused),
        "listed": len(listed),
        "not_listed": len(acked) - len(listed),
        "errors": phase.errors[:10],
        "error_count": len(phase.errors),
        "latency_ms": {
            "ack": percentiles([r.ack - r.t0 for r in acked if phase.path != "mjpeg"]),
            "listed": percentiles([r.listed - r.t0 for r in listed]),
            "live": percentiles([r.live - r.t0 for (i, _), r in phase.frames.items()
                                 if r.live is not None and i < live_viewers]),
        },
        "cpu_percent": cpu,
    }
    listed_p95 = result["latency_ms"]["listed"]["p95"]
    result["sustained"] = (len(acked) >= 0.95 * phase.rate * phase.seconds and not result["refused"]
                           and result["not_listed"] == 0 and listed_p95 is not None and listed_p95 < 1000)
    return result


def line(result: dict[str, Any]) -> str:
    lat = result["latency_ms"]
    return (f"{result['path']:>5} {result['offered_fps']:>6.0f} fps offered, {result['acked_fps']:>6.1f} acked, "
            f"{result['not_listed']} unlisted, {result['error_count']} errors | listed p50/p95/p99 "
            f"{lat['listed']['p50']}/{lat['listed']['p95']}/{lat['listed']['p99']} ms | live p50/p99 "
            f"{lat['live']['p50']}/{lat['live']['p99']} ms | ack p50/p99 {lat['ack']['p50']}/{lat['ack']['p99']} ms"
            f" | {'sustained' if result['sustained'] else 'NOT sustained'}")


async def benchmark(args: argparse.Namespace, stack: ServiceStack, infra_pids: dict[str, int]) -> dict[str, Any]:
    user = ApiClient(stack.api_url)
    token = user.session.headers["Authorization"].split(" ", 1)[1]
    cameras = [user.create_camera(f"bench {n}") for n in range(args.cameras)]
    frames = Frames(args.frame_kb)
    pids = {name: stack.pid(name) for name in stack.services}
    cpu = CpuMeter({**{k: v for k, v in pids.items() if v}, **infra_pids, "bench client": os.getpid()})
    watchers = Watchers(int(stack.env["SENSR_API_PORT"]), str(token), cameras, args.live_viewers)
    await watchers.start()
    await asyncio.sleep(1.0)
    number = 0
    report: dict[str, Any] = {"steady": [], "ramp": {}, "highest_sustained_fps": {}}
    try:
        # Warm-up: every path once, briefly (connections, JIT-less caches, Kafka batches).
        for path in PATHS:
            number += 1
            await run_phase(number, path, len(cameras), 3, cameras, frames, watchers, cpu, drain=5)
        for path in PATHS:
            number += 1
            await watchers.quiet()
            result = await run_phase(number, path, len(cameras) * 1.0, args.seconds, cameras, frames, watchers, cpu)
            print("steady", line(result), flush=True)
            report["steady"].append(result)
        for path, steady in zip(PATHS, report["steady"]):
            steps = []
            best = round(steady["offered_fps"]) if steady["sustained"] else None  # the ramp starts above it
            await watchers.quiet()  # start each path's ramp with the catalog caught up
            for rate in args.ramp:
                number += 1
                result = await run_phase(number, path, rate, args.step_seconds, cameras, frames, watchers, cpu)
                print("ramp  ", line(result), flush=True)
                steps.append(result)
                if not result["sustained"]:
                    break
                best = rate
            report["ramp"][path] = steps
            report["highest_sustained_fps"][path] = best
    finally:
        await watchers.stop()
    report["unmatched_watch_events"] = watchers.unmatched
    return report


# -- chart (Pillow) ---------------------------------------------------------------------------------------

COLORS = {"listed p50": (31, 119, 180), "listed p99": (214, 39, 40), "live p50": (44, 160, 44),
          "ack p99": (148, 103, 189)}


def chart(report: dict[str, Any], path: Path) -> None:
    width, height, margin = 1500, 560, 70
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    try:
        draw.font = ImageFont.load_default(size=13)
    except (TypeError, OSError):  # an older Pillow without FreeType sizes: its bitmap font
        pass
    draw.text((margin, 12), f"Sensr end-to-end latency vs offered load (ms, log scale) - {report['machine']['summary']}",
              fill="black")
    panel_w = (width - 2 * margin) // 3
    low, high = 1.0, 10_000.0

    def y_of(ms: float) -> float:
        ms = min(max(ms, low), high)
        return height - margin - (math.log10(ms) - math.log10(low)) / (math.log10(high) - math.log10(low)) * (
            height - 2 * margin - 20)

    for n, ingest in enumerate(PATHS):
        steps = [r for r in report["steady"] if r["path"] == ingest] + report["ramp"].get(ingest, [])
        steps = sorted(steps, key=lambda r: r["offered_fps"])
        x0 = margin + n * panel_w + 20
        x1 = x0 + panel_w - 50
        rates = [r["offered_fps"] for r in steps] or [1]
        r_lo, r_hi = min(rates), max(rates) if max(rates) > min(rates) else min(rates) + 1

        def x_of(rate: float) -> float:
            return x0 + (rate - r_lo) / (r_hi - r_lo) * (x1 - x0)

        draw.rectangle((x0, margin, x1, height - margin), outline="black")
        draw.text((x0 + 5, margin - 18), f"{ingest} (best sustained: {report['highest_sustained_fps'].get(ingest)} fps)",
                  fill="black")
        for ms in (1, 10, 50, 100, 500, 1000, 5000):
            y = y_of(ms)
            draw.line((x0, y, x1, y), fill=(225, 225, 225))
            draw.text((x0 - 38, y - 6), f"{ms}", fill="gray")
        for rate in rates:
            draw.text((x_of(rate) - 10, height - margin + 6), f"{rate:.0f}", fill="gray")
        draw.text((x0 + (x1 - x0) // 2 - 40, height - margin + 22), "offered frames/s", fill="black")
        for goal, color in ((LISTED_P99_GOAL_MS, (214, 39, 40)), (LIVE_P50_GOAL_MS, (44, 160, 44))):
            y = y_of(goal)
            for x in range(int(x0), int(x1), 12):
                draw.line((x, y, x + 5, y), fill=color)
        for label, color in COLORS.items():
            kind, stat = label.split()
            points = [(x_of(r["offered_fps"]), y_of(r["latency_ms"][kind][stat])) for r in steps
                      if r["latency_ms"][kind][stat] is not None]
            if len(points) > 1:
                draw.line(points, fill=color, width=2)
            for x, y in points:
                draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=color)
    for n, (label, color) in enumerate(COLORS.items()):
        draw.rectangle((margin + n * 150, height - 22, margin + n * 150 + 12, height - 10), fill=color)
        draw.text((margin + n * 150 + 18, height - 22), label, fill="black")
    draw.text((margin + 4 * 150 + 20, height - 22), "dashed: goals (listed p99 500 ms, live p50 50 ms)", fill="black")
    image.save(path)


# -- main --------------------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu_model = ""
    try:
        cpu_model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = os.cpu_count()
    memory = round(psutil.virtual_memory().total / 2**30, 1)
    return {"cpu": cpu_model, "cores": cores, "memory_gib": memory, "python": platform.python_version(),
            "kernel": platform.release(), "load_average_start": [round(x, 2) for x in os.getloadavg()],
            "summary": f"{cores} cores, {cpu_model or platform.machine()}, {memory} GiB"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="steady phase length per path")
    parser.add_argument("--cameras", type=int, default=100)
    parser.add_argument("--ramp", type=lambda s: [int(x) for x in s.split(",")], default=[150, 200, 250, 300, 400, 600],
                        help="total frames/s of the ramp steps")
    parser.add_argument("--step-seconds", type=float, default=8)
    parser.add_argument("--live-viewers", type=int, default=10)
    parser.add_argument("--frame-kb", type=int, default=50)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    for rate in [args.cameras, *args.ramp]:
        assert rate / args.cameras * max(args.seconds, args.step_seconds) < SEQ_SPAN, "too many frames per camera"

    info = machine()
    print(f"machine: {info['summary']}; load average {info['load_average_start']}", flush=True)
    with ExitStack() as cleanup:
        folder = Path(tempfile.mkdtemp(prefix="sensr-bench-e2e-"))
        cleanup.callback(lambda: __import__("shutil").rmtree(folder, ignore_errors=True))
        kafka = KafkaServer(folder / "kafka")
        kafka.start()
        cleanup.callback(kafka.stop)
        ensure_topics(CoreSettings(), KafkaSettings(kafka_bootstrap=kafka.bootstrap))
        s3 = SeaweedS3(folder / "s3")
        s3.start()
        cleanup.callback(s3.stop)
        stack = ServiceStack(kafka.bootstrap, folder / "data", S3Endpoint(s3.endpoint, s3.access_key, s3.secret_key),
                             overrides={**LOOPBACK_LOAD, "SENSR_FTP_PASSIVE_PORTS": passive_port_range(400),
                                        "SENSR_LOG_LEVEL": "WARNING", "SENSR_FTP_MAX_CONNECTIONS_PER_CAMERA": "50",
                                        "SENSR_FTP_MAX_CONNECTIONS_PER_IP": "1000"}).start()
        cleanup.callback(stack.stop)
        infra_pids = {"kafka": kafka.process.pid, "seaweedfs": s3.process.pid}  # type: ignore[union-attr]
        print(f"stack up: api {stack.api_url}, http {stack.http_port}, ftp {stack.ftp_port}", flush=True)
        started = time.time()
        report = asyncio.run(benchmark(args, stack, infra_pids))
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    steady = {r["path"]: r for r in report["steady"]}
    report = {
        "benchmark": "bench/e2e_latency.py",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": info,
        "settings": {"cameras": args.cameras, "steady_seconds": args.seconds, "ramp_fps": args.ramp,
                     "step_seconds": args.step_seconds, "live_viewers": args.live_viewers,
                     "frame_bytes": len(Frames(args.frame_kb).base)},
        "goals": {
            "listed_p99_ms_at_100fps": LISTED_P99_GOAL_MS, "live_p50_ms": LIVE_P50_GOAL_MS,
            "met": {path: {"listed_p99": (r["latency_ms"]["listed"]["p99"] or 1e9) < LISTED_P99_GOAL_MS,
                           "live_p50": (r["latency_ms"]["live"]["p50"] or 1e9) < LIVE_P50_GOAL_MS}
                    for path, r in steady.items()},
        },
        **report,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "e2e_latency.json").write_text(json.dumps(report, indent=2))
    chart(report, args.out / "e2e_latency.png")
    print(f"wrote {args.out / 'e2e_latency.json'} and {args.out / 'e2e_latency.png'}")
    for path, met in report["goals"]["met"].items():
        print(f"{path}: listed p99 goal {'met' if met['listed_p99'] else 'MISSED'}, "
              f"live p50 goal {'met' if met['live_p50'] else 'MISSED'}; highest sustained "
              f"{report['highest_sustained_fps'].get(path)} fps")


if __name__ == "__main__":
    main()
