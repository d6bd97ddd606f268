"""The Kafka server process for development and tests: Apache Kafka 4.x, single node in
KRaft mode (broker + controller), from the jars on Maven Central that `infra/kafka/pom.xml`
pins. The services' Kafka client wiring (topics, producers, consumers) is `sensr/broker.py`."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from infra.process import ManagedProcess, ServiceStartError, free_ports, port_open, run_checked

KAFKA_DIR = Path(__file__).resolve().parent / "kafka"
JARS_DIR = KAFKA_DIR / "target" / "dependency"
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024 + 64 * 1024


def jars_installed() -> bool:
    return any(JARS_DIR.glob("kafka_2.13-*.jar"))


def install_jars(quiet: bool = False) -> None:
    """Fetch the broker jars with Maven (skipped when they are already there)."""
    if jars_installed():
        return
    if not shutil.which("mvn") or not shutil.which("java"):
        raise ServiceStartError("Kafka needs Java 17+ and Maven (mvn) on the PATH")
    argv = ["mvn", "-B", "-f", str(KAFKA_DIR / "pom.xml"), "dependency:copy-dependencies", "-DincludeScope=runtime"]
    if quiet:
        argv.insert(2, "-q")
    print("[infra] fetching Apache Kafka jars from Maven Central ...", flush=True)
    subprocess.run(argv, check=True)


def _java_argv(main_class: str, *args: str, heap: str = "512m") -> list[str]:
    return ["java", f"-Xmx{heap}", f"-Xms{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.yaml'}",
            "-cp", f"{JARS_DIR}/*", main_class, *args]


@dataclass
class KafkaServer:
    """One KRaft broker+controller on 127.0.0.1 with its data in `data_dir`.

    Ports are chosen free the first time and written to the config, so a restart
    (stop() then start()) keeps the same address and the same data.
    """

    data_dir: Path
    port: int = 0
    controller_port: int = 0
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    heap: str = "512m"
    process: ManagedProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "kafka.log"

    def _write_config(self) -> Path:
        spare = iter(free_ports(2))
        self.port = self.port or next(spare)
        self.controller_port = self.controller_port or next(spare)
        config = self.data_dir / "server.properties"
        config.write_text("\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={self.data_dir / 'logs'}",
            "num.partitions=1",
            "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=6",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            f"message.max.bytes={self.max_message_bytes}",
            f"replica.fetch.max.bytes={self.max_message_bytes}",
            f"socket.request.max.bytes={max(104857600, 2 * self.max_message_bytes)}",
            "log.retention.hours=168",
            "log.segment.bytes=268435456",
            "num.network.threads=3",
            "num.io.threads=4",
            "",
        ]))
        return config

    def _format_storage(self, config: Path) -> None:
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        cluster_id = _new_cluster_id()
        run_checked(_java_argv("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config), heap="256m"),
                    "formatting Kafka storage")

    def start(self, timeout: float = 90.0) -> None:
        """Format the storage if new, start the broker and wait until it answers."""
        if not jars_installed():
            raise ServiceStartError("Kafka jars are not installed: run `python -m infra install` first")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        self._format_storage(config)
        self.process = ManagedProcess("Kafka", _java_argv("kafka.Kafka", str(config), heap=self.heap), self.log_path)
        self.process.start()
        self.process.wait_ready(self._answers, timeout)

    def _answers(self) -> bool:
        if not port_open("127.0.0.1", self.port):
            return False
        from_log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "Kafka Server started" in from_log or "started (kafka.server" in from_log or _metadata_ok(self.bootstrap)

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def kill(self) -> None:
        if self.process:
            self.process.kill()


def _new_cluster_id() -> str:
    """A random cluster id in Kafka's form (URL-safe base64 of 16 bytes); like Kafka's own
    `Uuid.randomUuid`, never one starting with '-', which the storage tool would read as a flag."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _metadata_ok(bootstrap: str) -> bool:
    """True when the broker answers a metadata request (kafka-python, if installed)."""
    try:
        from kafka import KafkaAdminClient
    except ImportError:
        return False
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, client_id="sensr-infra-probe")
        try:
            admin.list_topics()
            return True
        finally:
            admin.close()
    except Exception:
        return False
