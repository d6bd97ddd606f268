"""A stack of Sensr's services for tests and benchmarks: some or all of the services of
`launcher.services` as child processes against a Kafka (and an S3 endpoint) that already
run, each stack with its own free loopback ports, data folder, SQLite index (unless a
database URL is given), bucket and catalog consumer group, so several stacks share one
Kafka and one S3 server without seeing each other's work.

One service can be stopped (SIGTERM), killed (SIGKILL) and started again on the same
ports, for fault tests.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from infra.process import ManagedProcess, free_ports
from launcher.services import ROOT, SERVICE_NAMES, SERVICES, answers_ok, launch, service, setting, wait_ready
from sensr.broker import ACTIVITY, CLIP_JOBS, CLIP_PROGRESS, FRAMES, make_consumer
from sensr.settings import CoreSettings, KafkaSettings, S3Settings
from sensr.storage import ensure_bucket, make_s3_client

LOOPBACK_LOAD: Mapping[str, str] = {
    # A killed worker's partitions go to its successor after this, not 45 s.
    "SENSR_CATALOG_SESSION_TIMEOUT_MS": "6000",
    "SENSR_CATALOG_RETRY_MAX_SECONDS": "2",
    # A killed clip worker's job goes to another worker after this.
    "SENSR_CLIP_SESSION_TIMEOUT_MS": "6000",
    # Tests and benchmarks send from one address, far faster than a camera.
    "SENSR_AUTH_FAILURE_LIMIT": "100000",
    "SENSR_FTP_AUTH_FAILURE_LIMIT": "100000",
    "SENSR_FTP_MAX_CONNECTIONS_PER_IP": "500",
    "SENSR_FTP_MAX_CONNECTIONS_PER_NETWORK": "0",
    "SENSR_FTP_MAX_CONNECTIONS_PER_CAMERA": "50",
    "SENSR_FTP_MAX_FRAMES_PER_SECOND": "10000",
    "SENSR_LOGIN_FAILURES_PER_ADDRESS": "100000",
    "SENSR_API_MAX_CONNECTIONS_PER_ADDRESS": "0",
}
"""Settings for a whole stack driven from this one machine by load and fault tests:
per-address limits lifted, and a dead catalog worker replaced within seconds."""


@dataclass(frozen=True)
class S3Endpoint:
    """An S3 server and the credentials to use it."""

    endpoint: str
    access_key: str
    secret_key: str

    def env(self) -> dict[str, str]:
        return {"SENSR_S3_ENDPOINT": self.endpoint, "SENSR_S3_ACCESS_KEY": self.access_key,
                "SENSR_S3_SECRET_KEY": self.secret_key}


def passive_port_range(width: int = 50) -> str:
    """A `low-high` range of ports that were all free a moment ago (best effort)."""
    for _ in range(200):
        low = random.randrange(20000, 60000 - width)
        socks: list[socket.socket] = []
        try:
            for port in range(low, low + width):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return f"{low}-{low + width - 1}"
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free passive port range found")


def start_group_at_end(bootstrap: str, group: str, topic: str = FRAMES) -> None:
    """Commit `group`'s offsets at the end of `topic`, so its first member starts there
    (what earlier tests or runs left in the topic is not its work)."""
    consumer = make_consumer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap), group_id=group)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in ends.items()})
    finally:
        consumer.close()


@dataclass
class ServiceStack:
    """`services` (default: all of them) as child processes, started in the table's order.

    The environment holds no `SENSR_` variable of the caller's: only what this stack
    sets (Kafka, S3, its own ports, data folder, index, bucket and consumer group), then
    `overrides`."""

    kafka_bootstrap: str
    data_dir: Path
    s3: S3Endpoint | None = None
    """Needed when a service of the stack needs S3 (the api, the catalog worker)."""
    services: tuple[str, ...] = SERVICE_NAMES
    overrides: Mapping[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(init=False)
    processes: dict[str, ManagedProcess] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        rows = sorted({service(name) for name in self.services}, key=SERVICES.index)  # in start order
        needs = set().union(*(row.needs for row in rows))
        if "s3" in needs and self.s3 is None:
            raise ValueError(f"S3 is needed by {', '.join(r.module for r in rows if 's3' in r.needs)}: pass s3=")
        self.services = tuple(row.module for row in rows)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {name: value for name, value in os.environ.items() if not name.startswith("SENSR_")}
        env.update(SENSR_KAFKA_BOOTSTRAP=self.kafka_bootstrap, SENSR_DATA_DIR=str(self.data_dir),
                   SENSR_PUBLIC_HOST="127.0.0.1", SENSR_LOG_FORMAT="json")
        if self.s3 is not None:
            env.update(self.s3.env(), SENSR_S3_BUCKET=f"stack-{uuid.uuid4().hex[:12]}")
        if "database" in needs:
            env["SENSR_DATABASE_URL"] = f"sqlite:///{self.data_dir / 'index.sqlite'}"
        if "catalog_worker" in self.services:
            env["SENSR_CATALOG_GROUP_ID"] = f"catalog-{uuid.uuid4().hex[:10]}"
        if "activity_worker" in self.services:
            env["SENSR_ACTIVITY_GROUP_ID"] = f"activity-{uuid.uuid4().hex[:10]}"
        if "notifier" in self.services:
            env["SENSR_NOTIFIER_GROUP_ID"] = f"notifier-{uuid.uuid4().hex[:10]}"
        if "api" in self.services:
            env["SENSR_CLIP_PROGRESS_GROUP_ID"] = f"api-clips-{uuid.uuid4().hex[:10]}"
        if "clip_worker" in self.services:
            env["SENSR_CLIP_GROUP_ID"] = f"clips-{uuid.uuid4().hex[:10]}"
        ports = [name for row in rows for name in row.ports]
        env.update({f"SENSR_{name.upper()}": str(port) for name, port in zip(ports, free_ports(len(ports)))})
        env.update({f"SENSR_{name.upper()}": passive_port_range() for row in rows for name in row.port_ranges})
        env.update(self.overrides)
        self.env = env

    # -- where things listen -------------------------------------------------------------------

    def setting(self, name: str) -> str:
        """The value of a setting (e.g. `api_port`) in this stack."""
        return setting(self.env, name)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.setting('api_port')}"

    @property
    def http_port(self) -> int:
        return int(self.setting("http_port"))

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ftp_port(self) -> int:
        return int(self.setting("ftp_port"))

    @property
    def bucket(self) -> str:
        return self.env["SENSR_S3_BUCKET"]

    def ops_url(self, name: str) -> str:
        """The base URL of the service's /healthz, /readyz and /metrics."""
        return service(name).ops_url(self.env)

    def healthy(self, name: str) -> bool:
        return answers_ok(f"{self.ops_url(name)}/healthz")

    def ready(self, name: str) -> bool:
        return answers_ok(service(name).ready_url(self.env))

    def pid(self, name: str) -> int | None:
        process = self.processes.get(name)
        return process.pid if process else None

    def running(self, name: str) -> bool:
        process = self.processes.get(name)
        return bool(process and process.running())

    def log_path(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}.log"

    def log(self, name: str) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace") if path.exists() else ""

    # -- starting and stopping -------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> ServiceStack:
        """Make the bucket (as `sensr run` does), put the stack's consumer groups at the end
        of their topics, then start every service in order, each ready before the next."""
        if self.s3 is not None:
            ensure_bucket(make_s3_client(S3Settings(s3_endpoint=self.s3.endpoint, s3_access_key=self.s3.access_key,
                                                    s3_secret_key=self.s3.secret_key)), self.bucket)
        if "catalog_worker" in self.services:
            start_group_at_end(self.kafka_bootstrap, self.env["SENSR_CATALOG_GROUP_ID"])
        if "activity_worker" in self.services:
            start_group_at_end(self.kafka_bootstrap, self.env["SENSR_ACTIVITY_GROUP_ID"])
        if "notifier" in self.services:  # what other stacks left on sensr.activity is not this one's to alert
            start_group_at_end(self.kafka_bootstrap, self.env["SENSR_NOTIFIER_GROUP_ID"], ACTIVITY)
        if "clip_worker" in self.services:
            start_group_at_end(self.kafka_bootstrap, self.env["SENSR_CLIP_GROUP_ID"], CLIP_JOBS)
        if "api" in self.services:
            start_group_at_end(self.kafka_bootstrap, self.env["SENSR_CLIP_PROGRESS_GROUP_ID"], CLIP_PROGRESS)
        try:
            for name in self.services:
                self.start_service(name, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_service(self, name: str, timeout: float = 120.0, wait: bool = True) -> None:
        assert not self.running(name), f"{name} runs already"
        self.processes[name] = launch(service(name), self.env, self.log_path(name), cwd=ROOT, wait=False)
        if wait:
            self.wait_ready(name, timeout)

    def wait_ready(self, name: str, timeout: float = 120.0) -> None:
        wait_ready(service(name), self.processes[name], self.env, timeout)

    def stop_service(self, name: str) -> None:
        """SIGTERM (then SIGKILL after 20 s): a clean stop."""
        process = self.processes.get(name)
        if process is not None:
            process.stop()

    def kill_service(self, name: str) -> None:
        """SIGKILL at once: a crash."""
        process = self.processes.get(name)
        if process is not None:
            process.kill()

    def restart_service(self, name: str, kill: bool = False, timeout: float = 120.0) -> None:
        (self.kill_service if kill else self.stop_service)(name)
        self.start_service(name, timeout)

    def stop(self) -> None:
        """Edges first (no new frames), then the worker, then the api."""
        for name in reversed(self.services):
            self.stop_service(name)

    def __enter__(self) -> ServiceStack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
