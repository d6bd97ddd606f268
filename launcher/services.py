"""The one table of Sensr's services, and starting one of them as a child process.

Each row says how a service is run (`python -m <module>`), which settings name the ports
it listens on, where its `/healthz`, `/readyz` and `/metrics` answer, and what
infrastructure it needs. `sensr run`, the tests and the benchmarks all start services
from this table with `launch`, which returns once the service's `/readyz` answers 200.

Addresses are read from a stack's environment (`SENSR_...` variables), each setting
falling back to its default in `sensr.settings`, so the table holds setting names, not
numbers.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from infra.process import ManagedProcess
from sensr.settings import SECTIONS

Infrastructure = Literal["kafka", "s3", "database"]
ROOT = Path(__file__).resolve().parent.parent
"""The folder holding the service packages (a checkout, or site-packages)."""


def setting(env: Mapping[str, str], name: str) -> str:
    """The value of setting `name` (a field of `sensr.settings`, e.g. `api_port`) in `env`,
    else its default."""
    value = env.get(f"SENSR_{name.upper()}")
    if value is not None:
        return value
    for section in SECTIONS:
        if name in section.model_fields:
            default = section.model_fields[name].default
            return "" if default is None else str(default)
    raise KeyError(f"no setting named {name!r} in sensr.settings")


class _Settings(dict[str, str]):
    """Setting values by name, looked up on use (for `str.format_map`)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__()
        self._env = env

    def __missing__(self, name: str) -> str:
        return setting(self._env, name)


@dataclass(frozen=True)
class Service:
    """One row of the table."""

    module: str
    """`python -m <module>` runs it."""
    ports: tuple[str, ...]
    """Settings naming the TCP ports it listens on (a stack on free ports sets each)."""
    port_ranges: tuple[str, ...]
    """Settings naming ranges of ports it listens on (`low-high`)."""
    ops: tuple[str, str]
    """Settings of the host and port where its /healthz, /readyz and /metrics answer."""
    needs: frozenset[Infrastructure]
    """What it reaches underneath: its settings for these must point at them."""
    serves: str
    """What it offers where, as `sensr run` prints it (a template over settings)."""

    def ops_url(self, env: Mapping[str, str]) -> str:
        """The base URL of its /healthz, /readyz and /metrics in a stack with `env`."""
        host, port = (setting(env, name) for name in self.ops)
        if host in ("", "0.0.0.0", "::"):  # listening everywhere: ask on loopback
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    def ready_url(self, env: Mapping[str, str]) -> str:
        return f"{self.ops_url(env)}/readyz"

    def describe(self, env: Mapping[str, str]) -> str:
        """What it offers where, with the addresses of a stack with `env`."""
        return self.serves.format_map(_Settings(env))


SERVICES: tuple[Service, ...] = (
    Service("api", ports=("api_port",), port_ranges=(), ops=("api_host", "api_port"),
            needs=frozenset({"kafka", "s3", "database"}),
            serves="web UI and JSON API  http://{api_host}:{api_port}/"),
    Service("catalog_worker", ports=("catalog_ops_port",), port_ranges=(),
            ops=("catalog_ops_host", "catalog_ops_port"), needs=frozenset({"kafka", "s3", "database"}),
            serves="catalog worker ops   http://{catalog_ops_host}:{catalog_ops_port}/metrics"),
    Service("activity_worker", ports=("activity_ops_port",), port_ranges=(),
            ops=("activity_ops_host", "activity_ops_port"), needs=frozenset({"kafka", "database"}),
            serves="activity worker ops  http://{activity_ops_host}:{activity_ops_port}/metrics"),
    Service("notifier", ports=("notifier_ops_port",), port_ranges=(),
            ops=("notifier_ops_host", "notifier_ops_port"), needs=frozenset({"kafka", "s3", "database"}),
            serves="notifier ops         http://{notifier_ops_host}:{notifier_ops_port}/metrics"),
    Service("clip_worker", ports=("clip_ops_port",), port_ranges=(),
            ops=("clip_ops_host", "clip_ops_port"), needs=frozenset({"kafka", "s3", "database"}),
            serves="clip worker ops      http://{clip_ops_host}:{clip_ops_port}/metrics"),
    Service("ingest_http", ports=("http_port",), port_ranges=(), ops=("http_host", "http_port"),
            needs=frozenset({"kafka"}),
            serves="HTTP photo + MJPEG   http://{http_host}:{http_port}/photo/<camera>"),
    Service("ingest_ftp", ports=("ftp_port", "ftp_ops_port"), port_ranges=("ftp_passive_ports",),
            ops=("ftp_host", "ftp_ops_port"), needs=frozenset({"kafka"}),
            serves="FTP upload           ftp://{ftp_host}:{ftp_port}/ (passive {ftp_passive_ports})"),
)
"""In start order: the api first (it owns the camera logins), the edges last, so a stack
takes uploads only once everything behind the edges runs. Stop in the reverse order."""

SERVICE_NAMES: tuple[str, ...] = tuple(service.module for service in SERVICES)


def service(name: str) -> Service:
    """The table's row for `name` (`api`, `ingest_http`, `ingest_ftp`, `catalog_worker`, ...: `SERVICE_NAMES`)."""
    for row in SERVICES:
        if row.module == name:
            return row
    raise KeyError(f"no service named {name!r}; Sensr's services are {', '.join(SERVICE_NAMES)}")


def answers_ok(url: str) -> bool:
    """True when a GET of `url` answers 200 (within 2 s)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def launch(service: Service, env: Mapping[str, str], log_path: Path, *, cwd: Path | None = None,
           timeout: float = 90.0, wait: bool = True) -> ManagedProcess:
    """Start `python -m <module>` in its own process group with `env` (in `cwd`, default
    the caller's), output to `log_path`; with `wait`, return once its /readyz answers 200
    (ServiceStartError, with the log's tail, if it exits or is not ready within `timeout`)."""
    process = ManagedProcess(service.module, [sys.executable, "-m", service.module], log_path, env=dict(env), cwd=cwd)
    process.start()
    if wait:
        wait_ready(service, process, env, timeout)
    return process


def wait_ready(service: Service, process: ManagedProcess, env: Mapping[str, str], timeout: float = 90.0) -> None:
    """Until the started service's /readyz answers 200 (see `launch`)."""
    url = service.ready_url(env)
    process.wait_ready(lambda: answers_ok(url), timeout)
