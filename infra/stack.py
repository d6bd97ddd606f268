"""`sensr infra up|down|status`: Kafka, SeaweedFS and (optionally) PostgreSQL started in
the background, their pids and ports kept in `<data>/infra/state.json` so a later
`down` stops exactly them and a later `up` reuses their ports and data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from infra.kafka_server import KafkaServer
from infra.postgres import PostgresCluster
from infra.process import free_ports, group_alive, port_open, stop_process_group
from infra.seaweedfs import PORT_FLAGS, SeaweedS3


@dataclass(frozen=True)
class StackPorts:
    kafka: int = 9092
    s3: int = 8333
    postgres: int = 5432


def _state_path(data_dir: Path) -> Path:
    return data_dir / "infra" / "state.json"


def read_state(data_dir: Path) -> dict:
    path = _state_path(data_dir)
    return json.loads(path.read_text()) if path.exists() else {}


def _write_state(data_dir: Path, state: dict) -> None:
    path = _state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2))


def up(data_dir: Path, ports: StackPorts, access_key: str, secret_key: str, with_postgres: bool = False) -> dict:
    """Start what is not running yet; return the state (endpoints and pids)."""
    data_dir = data_dir.resolve()
    state = read_state(data_dir)
    services = state.setdefault("services", {})

    def alive(name: str) -> bool:
        entry = services.get(name)
        return bool(entry) and group_alive(entry["pid"])

    if not alive("kafka"):
        saved = services.get("kafka", {})
        kafka = KafkaServer(data_dir / "infra" / "kafka", port=ports.kafka,
                            controller_port=saved.get("controller_port", 0))
        print(f"[infra] starting Kafka on 127.0.0.1:{ports.kafka} ...", flush=True)
        kafka.start()
        services["kafka"] = {"pid": kafka.process.pid, "bootstrap": kafka.bootstrap,
                             "controller_port": kafka.controller_port, "log": str(kafka.log_path)}
        _write_state(data_dir, state)
    if not alive("seaweedfs"):
        saved_ports = services.get("seaweedfs", {}).get("ports", {})
        s3 = SeaweedS3(data_dir / "infra" / "seaweedfs", access_key, secret_key, ports=saved_ports)
        if not s3.ports:
            s3.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS))))
            s3.ports["s3.port"] = ports.s3
        print(f"[infra] starting SeaweedFS S3 on 127.0.0.1:{ports.s3} ...", flush=True)
        s3.start()
        services["seaweedfs"] = {"pid": s3.process.pid, "endpoint": s3.endpoint, "ports": s3.ports,
                                 "log": str(s3.log_path)}
        _write_state(data_dir, state)
    if with_postgres and not alive("postgres"):
        pg = PostgresCluster(data_dir / "infra" / "postgres", port=ports.postgres)
        print(f"[infra] starting PostgreSQL on 127.0.0.1:{ports.postgres} ...", flush=True)
        pg.start()
        services["postgres"] = {"pid": pg.process.pid, "url": pg.url, "log": str(pg.log_path)}
        _write_state(data_dir, state)
    return state


def down(data_dir: Path) -> list[str]:
    """Stop every service `up` started; return their names."""
    data_dir = data_dir.resolve()
    state = read_state(data_dir)
    stopped = []
    for name, entry in state.get("services", {}).items():
        if group_alive(entry["pid"]):
            stop_process_group(entry["pid"])
            stopped.append(name)
        entry["pid"] = 0
    if state:
        _write_state(data_dir, state)
    return stopped


def status(data_dir: Path) -> dict[str, dict]:
    """Each known service with whether it runs and answers."""
    report = {}
    for name, entry in read_state(data_dir.resolve()).get("services", {}).items():
        address = entry.get("bootstrap") or entry.get("endpoint") or entry.get("url", "").rsplit("@", 1)[-1].split("/")[0]
        host, _, port = address.rpartition(":")
        running = bool(entry.get("pid")) and group_alive(entry["pid"])
        report[name] = {"running": running, "answers": running and port_open(host, int(port)),
                        "address": address, "log": entry.get("log")}
    return report
