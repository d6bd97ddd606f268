"""Issue 17, finding 13: an edge's `/readyz` says 200 only when an upload would be stored.

After a Kafka restart or freeze, both edges' `/readyz` answered 200 while uploads were
still refused for up to 17 s. Here the broker of this test is stopped, or frozen
(SIGSTOP) past the request timeout, a few times in turn, while uploads go on: `/readyz`
of ingest_http and of ingest_ftp must go 503, and once the broker is back, the first
upload sent the moment an edge's `/readyz` answers 200 (a photo, an FTP STOR) must be
stored at once (200, 226).
"""

from __future__ import annotations

import ftplib
import json
import os
import random
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infra.kafka_server import KafkaServer
from infra.process import ManagedProcess, free_ports
from tests.support.kafka_tap import register_camera
from tests.support.harness import eventually
from tests.support.jpegs import make_jpeg
from tests.support.ingest_http import IngestHttp, basic, start_ingest_http

REPO = Path(__file__).resolve().parents[2]
ACK_TIMEOUT_MS = 3000
FAULTS = ("stop", "freeze")


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:  # 503 (HTTPError) or not answering
        return False


def start_ingest_ftp(bootstrap: str, log_dir: Path) -> tuple[ManagedProcess, int, int]:
    """`python -m ingest_ftp` against `bootstrap`; (process, FTP port, ops port) once ready."""
    port, ops_port = free_ports(2)
    low = random.randrange(40000, 60000, 50)
    env = {name: value for name, value in os.environ.items() if not name.startswith("SENSR_")}
    env.update({"SENSR_KAFKA_BOOTSTRAP": bootstrap, "SENSR_FTP_PORT": str(port), "SENSR_FTP_OPS_PORT": str(ops_port),
                "SENSR_FTP_PASSIVE_PORTS": f"{low}-{low + 49}", "SENSR_LOG_FORMAT": "console",
                "SENSR_DATA_DIR": str(log_dir / "ftp-data"), "SENSR_KAFKA_REQUEST_TIMEOUT_MS": str(ACK_TIMEOUT_MS)})
    process = ManagedProcess("ingest_ftp", [sys.executable, "-m", "ingest_ftp"], log_dir / "ingest_ftp.log",
                             env=env, cwd=REPO)
    process.start()
    process.wait_ready(lambda: ready(f"http://127.0.0.1:{ops_port}/readyz"), timeout=90)
    return process, port, ops_port


def upload_photo(service: IngestHttp, login: tuple[str, str], seed: int) -> int:
    connection = service.connection()
    try:
        connection.request("POST", f"/photo/{login[0]}", body=make_jpeg(64, 48, seed=seed),
                           headers={"Authorization": basic(*login)})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def store_by_ftp(port: int, login: tuple[str, str], seed: int) -> str:
    """Log in, STOR one frame over a passive connection, return the final reply."""
    with ftplib.FTP() as ftp:
        ftp.connect("127.0.0.1", port, timeout=30)
        ftp.login(*login)
        host, data_port = ftp.makepasv()
        ftp.putcmd(f"STOR ready_{seed}.jpg")
        preliminary = ftp.getmultiline()
        assert preliminary.startswith("150"), preliminary
        with socket.create_connection((host, data_port), timeout=10) as data_sock:
            data_sock.sendall(make_jpeg(64, 48, seed=seed))
        return ftp.getmultiline()


@pytest.fixture
def edges(private_kafka: KafkaServer, tmp_path: Path) -> Iterator[tuple[IngestHttp, int, str, tuple[str, str]]]:
    """Both edges on the private broker: (ingest_http, ingest_ftp's FTP port, its /readyz URL, a camera login)."""
    login = (f"ready{time.time_ns() % 10**9}", "pw-ready")
    register_camera(private_kafka.bootstrap, *login)
    http_edge = start_ingest_http(private_kafka.bootstrap, tmp_path, kafka_request_timeout_ms=ACK_TIMEOUT_MS)
    try:
        ftp_process, ftp_port, ops_port = start_ingest_ftp(private_kafka.bootstrap, tmp_path)
        try:
            yield http_edge, ftp_port, f"http://127.0.0.1:{ops_port}/readyz", login
        finally:
            ftp_process.stop()
    finally:
        http_edge.process.stop()


def test_ready_edges_store_the_first_upload_after_kafka_comes_back(
        private_kafka: KafkaServer, edges: tuple[IngestHttp, int, str, tuple[str, str]]) -> None:
    http_edge, ftp_port, ftp_ready, login = edges
    http_ready = http_edge.url("/readyz")
    for url in (http_ready, ftp_ready):
        with urllib.request.urlopen(url, timeout=5) as response:
            assert json.loads(response.read())["checks"]["kafka_delivers"] is True
    assert upload_photo(http_edge, login, seed=0) == 200
    assert store_by_ftp(ftp_port, login, seed=0).startswith("226")
    frozen: int | None = None
    try:
        for round_, fault in enumerate(FAULTS, start=1):
            if fault == "stop":
                private_kafka.stop()
            else:
                assert private_kafka.process is not None and private_kafka.process.pid is not None
                frozen = private_kafka.process.pid
                os.kill(frozen, signal.SIGSTOP)
            eventually(lambda: not ready(http_ready) and not ready(ftp_ready), timeout=60,
                       what=f"round {round_} ({fault}): /readyz of both edges goes 503")
            # Uploads meanwhile, as cameras go on sending: refused once the ack timeout
            # passes, they leave expired batches behind in both producers.
            with ThreadPoolExecutor(2) as pool:
                photo = pool.submit(upload_photo, http_edge, login, 1000 + round_)
                stor = pool.submit(store_by_ftp, ftp_port, login, 1000 + round_)
                assert photo.result(timeout=60) == 503
                assert stor.result(timeout=60).startswith("451")
            if fault == "freeze":
                os.kill(frozen, signal.SIGCONT)  # type: ignore[arg-type]
                frozen = None
            else:
                private_kafka.start()
            for check, upload, stored in (
                    (http_ready, lambda: upload_photo(http_edge, login, seed=round_), lambda answer: answer == 200),
                    (ftp_ready, lambda: store_by_ftp(ftp_port, login, seed=round_),
                     lambda answer: answer.startswith("226"))):
                eventually(lambda: ready(check), timeout=120, interval=0.05,
                           what=f"round {round_} ({fault}): {check} answers 200 again")
                answer = upload()
                assert stored(answer), f"round {round_} ({fault}): {check} said ready, the upload got {answer}"
    finally:
        if frozen is not None:
            os.kill(frozen, signal.SIGCONT)

