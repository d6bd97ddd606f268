"""`sensr run`: the whole stack natively on one machine, in the foreground.

Installs what is missing, starts Kafka and SeaweedFS (unless `sensr infra up` already
runs them), creates the topics and the bucket, starts the four services as child
processes with the SQLite index, prints where everything listens, and on Ctrl-C stops
the services and then the infrastructure it started. Data stays in the data folder, so
the next start finds the cameras and frames again.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from infra import stack
from infra.install import install
from infra.process import ManagedProcess, ServiceStartError
from sensr.broker import ensure_topics
from sensr.settings import Settings
from sensr.storage import ensure_bucket, make_s3_client


@dataclass(frozen=True)
class Service:
    module: str
    ready_url: str
    listens: str


def services(settings: Settings) -> list[Service]:
    """The four services, in start order (api first: it owns the camera logins)."""
    api, http, ftp, cat = settings.api, settings.http, settings.ftp, settings.catalog
    return [
        Service("api", f"http://{api.api_host}:{api.api_port}/readyz",
                f"web UI and JSON API  http://{api.api_host}:{api.api_port}/"),
        Service("catalog_worker", f"http://127.0.0.1:{cat.catalog_ops_port}/readyz",
                f"catalog worker ops   http://127.0.0.1:{cat.catalog_ops_port}/metrics"),
        Service("ingest_http", f"http://{http.http_host}:{http.http_port}/readyz",
                f"HTTP photo + MJPEG   http://{http.http_host}:{http.http_port}/photo/<camera>"),
        Service("ingest_ftp", f"http://127.0.0.1:{ftp.ftp_ops_port}/readyz",
                f"FTP upload           ftp://{ftp.ftp_host}:{ftp.ftp_port}/ (passive {ftp.ftp_passive_ports})"),
    ]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _step(message: str) -> None:
    print(f"[sensr] {message}", flush=True)


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def run(settings: Settings, wait: bool = True) -> list[ManagedProcess]:
    """Start everything; with `wait`, block until Ctrl-C/SIGTERM and then stop it all."""
    data_dir = Path(settings.core.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    _step("checking installed parts (Kafka jars, SeaweedFS, PostgreSQL) ...")
    install()
    was_running = {name for name, entry in stack.status(data_dir).items() if entry["running"]}
    ports = stack.StackPorts(kafka=_port(settings.kafka.kafka_bootstrap), s3=_port(settings.s3.s3_endpoint))
    _step("starting Kafka and SeaweedFS ...")
    stack.up(data_dir, ports, settings.s3.s3_access_key, settings.s3.s3_secret_key)
    started_infra = {"kafka", "seaweedfs"} - was_running
    _step("creating topics and the bucket ...")
    ensure_topics(settings.core, settings.kafka)
    ensure_bucket(make_s3_client(settings.s3), settings.s3.s3_bucket)

    env = dict(os.environ, SENSR_DATA_DIR=str(data_dir))
    children: list[ManagedProcess] = []
    try:
        for service in services(settings):
            if not (Path(__file__).resolve().parent.parent / service.module / "__main__.py").exists():
                _step(f"{service.module}: not built yet, skipped")
                continue
            _step(f"starting {service.module} ...")
            child = ManagedProcess(service.module, [sys.executable, "-m", service.module],
                                   data_dir / "logs" / f"{service.module}.log", env=env)
            child.start()
            children.append(child)
            child.wait_ready(lambda url=service.ready_url: _ready(url), timeout=90)
            _step(f"  {service.listens}")
    except (ServiceStartError, KeyboardInterrupt):
        _stop(children, data_dir if started_infra else None)
        raise
    _step(f"Sensr is running; data in {data_dir}, logs in {data_dir / 'logs'}.")
    _step(f"Sign up at http://{settings.api.api_host}:{settings.api.api_port}/ , create a camera, "
          "and paste its upload commands. Ctrl-C stops everything.")
    if not wait:
        return children
    _wait_for_signal()
    _step("stopping ...")
    _stop(children, data_dir if started_infra else None)
    _step("stopped.")
    return children


def _wait_for_signal() -> None:
    stopping = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stopping:
        time.sleep(0.2)


def _stop(children: list[ManagedProcess], infra_data_dir: Path | None) -> None:
    """Edges first (no new frames), then the worker and the api, then the infrastructure."""
    for child in reversed(children):
        child.stop()
    if infra_data_dir is not None:
        stack.down(infra_data_dir)
