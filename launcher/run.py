"""`sensr run`: the whole stack natively on one machine, in the foreground.

Installs what is missing, starts Kafka and SeaweedFS (unless `sensr infra up` already
runs them), creates the topics and the bucket, starts the services of the table in
`launcher.services` as child processes with the SQLite index, prints where everything
listens, and on Ctrl-C stops the services and then the infrastructure it started. Data
stays in the data folder, so the next start finds the cameras and frames again.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from infra import stack
from infra.install import install
from infra.process import ManagedProcess, ServiceStartError
from launcher.demo import DemoError, DemoLogin, demo
from launcher.services import SERVICES, launch, wait_ready
from sensr.broker import ensure_topics
from sensr.settings import Settings
from sensr.storage import ensure_bucket, make_s3_client


def _step(message: str) -> None:
    print(f"[sensr] {message}", flush=True)


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def run(settings: Settings, wait: bool = True, demo_login: DemoLogin | None = None) -> list[ManagedProcess]:
    """Start everything; with `wait`, block until Ctrl-C/SIGTERM and then stop it all.
    With `demo_login`, also create (or find again) that user and a demo camera, and
    print upload commands for it."""
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
        for service in SERVICES:
            _step(f"starting {service.module} ...")
            # Kept before waiting, so Ctrl-C while it starts stops it too.
            children.append(launch(service, env, data_dir / "logs" / f"{service.module}.log", wait=False))
            wait_ready(service, children[-1], env, timeout=90)
            _step(f"  {service.describe(env)}")
    except (ServiceStartError, KeyboardInterrupt):
        _stop(children, data_dir if started_infra else None)
        raise
    _step(f"Sensr is running; data in {data_dir}, logs in {data_dir / 'logs'}.")
    if demo_login is not None:
        try:
            print(demo(settings, demo_login), flush=True)
        except DemoError as error:
            _step(f"demo: {error}")
    _step(f"Sign up at http://{settings.api.api_host}:{settings.api.api_port}/ , create a camera, "
          "and paste its upload commands (or run `sensr demo`). Ctrl-C stops everything.")
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
