"""Acknowledged FTP uploads per second: ingest_ftp (226 after Kafka's ack) against a plain
pyftpdlib server writing the same uploads to the local disk, in the same run.

200 camera sessions on persistent connections (asyncio clients, in a process of their
own) each upload 50 KB JPEG frames as fast as they are acknowledged: PASV, STOR, send,
wait for 226, again. Both servers run side by side and are measured one at a time, in
alternating rounds (the machine is shared, so load drifts); the Kafka broker (started
here, in a temporary folder) runs throughout. Goal: ingest_ftp at >= 0.5x the plain
server's rate. CPU time per frame is reported too, for ingest_ftp and the broker apart.

    python bench/ftp_ingest.py [--sessions 200] [--rounds 3] [--seconds 10] [--warmup 3]

Every upload carries a fresh counter in a JPEG comment, so no two are the same bytes (the
re-upload memory of ingest_ftp never short-cuts one); names cycle per camera to bound the
plain server's disk use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL = 0.5
FRAME_BYTES = 50_000
NAMES_PER_CAMERA = 20


# -- the client process ---------------------------------------------------------------------

class _Session:
    """One camera's control connection, speaking just enough FTP to upload."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def reply(self) -> tuple[int, str]:
        while True:
            line = (await self.reader.readline()).decode()
            if not line:
                raise ConnectionError("server closed the control connection")
            if len(line) >= 4 and line[3] == " " and line[:3].isdigit():
                return int(line[:3]), line

    async def command(self, text: str) -> tuple[int, str]:
        self.writer.write(f"{text}\r\n".encode())
        return await self.reply()


def _framed(base: bytes, counter: int) -> bytes:
    """`base` with a COM segment holding `counter` right after SOI: unique bytes, valid JPEG."""
    return base[:2] + b"\xff\xfe\x00\x0a" + struct.pack(">Q", counter) + base[2:]


async def _camera(index: int, port: int, user: str, password: str, base: bytes, t_start: float, t_end: float,
                  acked: list[float]) -> None:
    session = _Session(*await asyncio.open_connection("127.0.0.1", port))
    await session.reply()
    await session.command(f"USER {user}")
    code, text = await session.command(f"PASS {password}")
    if code != 230:
        raise RuntimeError(f"login of {user} failed: {text.strip()}")
    await session.command("TYPE I")
    count = 0
    while time.monotonic() < t_end:
        code, text = await session.command("PASV")
        numbers = text[text.index("(") + 1: text.index(")")].split(",")
        data_port = int(numbers[4]) * 256 + int(numbers[5])
        _, data = await asyncio.open_connection("127.0.0.1", data_port)
        code, text = await session.command(f"STOR cam{index}_{count % NAMES_PER_CAMERA:02d}.jpg")
        if code not in (125, 150):
            raise RuntimeError(f"STOR refused: {text.strip()}")
        data.write(_framed(base, index << 32 | count))
        await data.drain()
        data.close()
        await data.wait_closed()
        code, text = await session.reply()
        if code != 226:
            raise RuntimeError(f"upload failed: {text.strip()}")
        done = time.monotonic()
        if t_start <= done < t_end:
            acked.append(done)
        count += 1
    await session.command("QUIT")
    session.writer.close()


async def _clients(port: int, logins: list[tuple[str, str]], base: bytes, warmup: float, seconds: float) -> dict:
    now = time.monotonic()
    t_start, t_end = now + warmup, now + warmup + seconds
    acked: list[float] = []
    results = await asyncio.gather(*(_camera(i, port, user, pw, base, t_start, t_end, acked)
                                     for i, (user, pw) in enumerate(logins)), return_exceptions=True)
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    return {"acked": len(acked), "seconds": seconds, "rate": len(acked) / seconds, "errors": errors[:5],
            "failed_sessions": len(errors)}


def run_clients(args: argparse.Namespace) -> None:
    logins = [tuple(pair) for pair in json.loads(Path(args.logins).read_text())]
    base = Path(args.frame).read_bytes()
    print(json.dumps(asyncio.run(_clients(args.port, logins, base, args.warmup, args.seconds))))


# -- the plain server process -----------------------------------------------------------------

def run_plain_server(args: argparse.Namespace) -> None:
    """pyftpdlib as it comes: virtual users, files written to `args.root`."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    logging.basicConfig(level=logging.WARNING)
    authorizer = DummyAuthorizer()
    for user, password in json.loads(Path(args.logins).read_text()):
        home = Path(args.root) / user
        home.mkdir(parents=True, exist_ok=True)
        authorizer.add_user(user, password, str(home), perm="elwadfm")
    low, high = (int(p) for p in args.passive.split("-"))
    handler = type("PlainHandler", (FTPHandler,), {"authorizer": authorizer, "passive_ports": range(low, high + 1)})
    server = FTPServer(("127.0.0.1", args.port), handler, backlog=256)
    server.max_cons = 4096
    server.max_cons_per_ip = 0
    server.serve_forever(handle_exit=True)


# -- the conductor ------------------------------------------------------------------------------

def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "?")
    return (f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {int(memory) // 1024 // 1024} GiB, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def _wait_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    from infra.process import port_open

    deadline = time.monotonic() + timeout
    while not port_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("plain server did not start")
        time.sleep(0.1)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """One contender: its port and the processes whose CPU time it costs."""

    name: str
    port: int
    pids: dict[str, int]  # what -> process id
    acked: int = 0
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    failed_sessions: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.acked / self.seconds if self.seconds else 0.0


def _measure(server: Server, work: Path, args: argparse.Namespace) -> float:
    """One window of uploads against `server`; adds to its totals and returns the window's rate."""
    cpu_before = {what: _cpu_seconds(pid) for what, pid in server.pids.items()}
    client = subprocess.run([sys.executable, __file__, "--client", "--port", str(server.port), "--logins",
                             str(work / "logins.json"), "--frame", str(work / "frame.jpg"),
                             "--warmup", str(args.warmup), "--seconds", str(args.seconds)],
                            capture_output=True, text=True, timeout=args.warmup + args.seconds + 120)
    if client.returncode != 0:
        raise RuntimeError(f"client failed: {client.stderr[-2000:]}")
    result = json.loads(client.stdout.strip().splitlines()[-1])
    for what, pid in server.pids.items():
        server.cpu[what] = server.cpu.get(what, 0.0) + _cpu_seconds(pid) - cpu_before[what]
    server.acked += result["acked"]
    server.seconds += result["seconds"]
    server.failed_sessions += result["failed_sessions"]
    server.errors += result["errors"]
    return result["rate"]


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def conduct(args: argparse.Namespace) -> None:
    from infra.kafka_server import KafkaServer
    from infra.process import free_ports
    from launcher.service_stack import ServiceStack
    from sensr.broker import ensure_topics, make_producer
    from sensr.cameras import CameraLogin, publish_login
    from sensr.settings import CoreSettings, KafkaSettings
    from workload.jpegs import camera_jpeg

    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="sensr-bench-ftp-"))
    processes: list[subprocess.Popen] = []
    stacks: list[ServiceStack] = []
    broker = KafkaServer(work / "kafka", heap="1g")
    try:
        frame = camera_jpeg(FRAME_BYTES)
        (work / "frame.jpg").write_bytes(frame)
        logins = [(f"bench{i:03d}{uuid.uuid4().hex[:6]}", uuid.uuid4().hex) for i in range(args.sessions)]
        (work / "logins.json").write_text(json.dumps(logins))
        print(f"{args.sessions} sessions, {len(frame)} byte frames; {args.rounds} rounds of "
              f"{args.warmup:g}s warm-up + {args.seconds:g}s measured per server, alternating")

        broker.start()
        kafka = KafkaSettings(kafka_bootstrap=broker.bootstrap)
        ensure_topics(CoreSettings(), kafka)
        producer = make_producer(CoreSettings(), kafka)
        for user, password in logins:
            publish_login(producer, CameraLogin.create(user, camera_id=user, owner_id="bench", password=password))
        producer.close()

        plain_port, = free_ports(1)
        plain = subprocess.Popen([sys.executable, __file__, "--plain-server", "--port", str(plain_port),
                                  "--logins", str(work / "logins.json"), "--root", str(work / "disk"),
                                  "--passive", "41000-41999"], stderr=subprocess.DEVNULL)
        processes.append(plain)
        ingest = ServiceStack(broker.bootstrap, work / "data", services=("ingest_ftp",), overrides={
            "SENSR_FTP_PASSIVE_PORTS": "42000-42999", "SENSR_FTP_MAX_CONNECTIONS": "4096",
            "SENSR_FTP_MAX_CONNECTIONS_PER_IP": "1000", "SENSR_FTP_MAX_CONNECTIONS_PER_NETWORK": "0",
            "SENSR_FTP_MAX_FRAMES_PER_SECOND": "1000",
            "SENSR_LOG_LEVEL": "WARNING"})
        stacks.append(ingest.start())
        _wait_port(plain_port, plain)

        contenders = [Server("plain pyftpdlib -> disk", plain_port, {"server": plain.pid}),
                      Server("ingest_ftp -> Kafka", ingest.ftp_port,
                             {"ingest_ftp": ingest.pid("ingest_ftp"), "broker": broker.process.pid})]
        for round_number in range(args.rounds):
            order = contenders if round_number % 2 == 0 else contenders[::-1]
            rates = {server.name: _measure(server, work, args) for server in order}
            print(f"round {round_number + 1}: " + ", ".join(f"{name} {rate:.0f}/s" for name, rate in rates.items()))
        plain_server, ingest_server = contenders
        for server in contenders:
            cpu = " + ".join(f"{what} {1000 * seconds / max(server.acked, 1):.2f}"
                             for what, seconds in server.cpu.items())
            print(f"{server.name:24}: {server.rate:8.1f} acknowledged frames/s ({server.acked} in {server.seconds:g}s; "
                  f"CPU ms per frame: {cpu}; failed sessions: {server.failed_sessions})")
            for error in server.errors[:3]:
                print(f"  error: {error}")
        ratio = ingest_server.rate / plain_server.rate if plain_server.rate else 0.0
        verdict = "meets" if ratio >= GOAL else "MISSES"
        print(f"ratio: {ratio:.2f}x the plain server ({verdict} the goal of >= {GOAL}x)")
    finally:
        for process in processes:
            if process.poll() is None:
                _stop(process)
        for stack in stacks:
            stack.stop()
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per server and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plain-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--logins", help=argparse.SUPPRESS)
    parser.add_argument("--frame", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--passive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        run_clients(args)
    elif args.plain_server:
        run_plain_server(args)
    else:
        conduct(args)


if __name__ == "__main__":
    main()
