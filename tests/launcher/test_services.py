"""The launcher's table of services (launcher/services.py) and the environment a
ServiceStack gives them (launcher/service_stack.py), without starting anything; the
services themselves are started from the table by tests/launcher/test_run.py, tests/e2e/test_clients.py
and every test that runs a service."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from launcher.service_stack import S3Endpoint, ServiceStack
from launcher.services import ROOT, SERVICE_NAMES, SERVICES, service, setting

S3 = S3Endpoint("127.0.0.1:9", "key", "secret")


def test_the_table_holds_every_service_that_has_a_console_script() -> None:
    """pyproject.toml installs `sensr-<service>` for each service (the `sensr` command
    itself is the launcher's)."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    services = {target.split(":")[0].split(".")[0] for name, target in scripts.items() if name != "sensr"}
    assert set(SERVICE_NAMES) == services
    assert scripts["sensr"] == "launcher.cli:main"


def test_the_api_starts_first_and_the_edges_last() -> None:
    """The api owns the camera logins; the edges take uploads only once what is behind them runs."""
    assert SERVICE_NAMES[0] == "api" and set(SERVICE_NAMES[-2:]) == {"ingest_http", "ingest_ftp"}


def test_readiness_urls_default_to_the_documented_ports() -> None:
    assert {row.module: row.ready_url({}) for row in SERVICES} == {
        "api": "http://127.0.0.1:8000/readyz",
        "catalog_worker": "http://127.0.0.1:8091/readyz",
        "activity_worker": "http://127.0.0.1:8092/readyz",
        "ingest_http": "http://127.0.0.1:8080/readyz",
        "ingest_ftp": "http://127.0.0.1:8021/readyz",
        "notifier": "http://127.0.0.1:8093/readyz",
        "clip_worker": "http://127.0.0.1:8094/readyz",
    }


def test_readiness_follows_the_settings_and_asks_loopback_for_a_wildcard_address() -> None:
    env = {"SENSR_FTP_HOST": "0.0.0.0", "SENSR_FTP_OPS_PORT": "9021", "SENSR_API_HOST": "10.1.2.3"}
    assert service("ingest_ftp").ready_url(env) == "http://127.0.0.1:9021/readyz"
    assert service("api").ops_url(env) == "http://10.1.2.3:8000"


def test_what_sensr_run_prints_for_a_service() -> None:
    env = {"SENSR_FTP_PORT": "2221", "SENSR_FTP_PASSIVE_PORTS": "40000-40009"}
    assert service("ingest_ftp").describe(env).endswith("ftp://127.0.0.1:2221/ (passive 40000-40009)")


def test_unknown_names_are_refused() -> None:
    with pytest.raises(KeyError, match="no service named 'ingest_smtp'"):
        service("ingest_smtp")
    with pytest.raises(KeyError, match="no setting named 'api_colour'"):
        setting({}, "api_colour")


def test_a_stack_gives_each_port_of_its_services_a_free_port_of_its_own(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSR_API_PORT", "8000")  # the caller's settings do not leak into a stack
    stack = ServiceStack("127.0.0.1:9092", tmp_path, S3)
    ports = [stack.env[f"SENSR_{name.upper()}"] for row in SERVICES for name in row.ports]
    assert len(set(ports)) == len(ports) == 8 and "8000" not in ports
    low, high = (int(part) for part in stack.env["SENSR_FTP_PASSIVE_PORTS"].split("-"))
    assert high > low
    assert stack.env["SENSR_DATABASE_URL"] == f"sqlite:///{tmp_path / 'index.sqlite'}"
    assert stack.env["SENSR_S3_BUCKET"] != ServiceStack("127.0.0.1:9092", tmp_path, S3).env["SENSR_S3_BUCKET"]
    assert stack.ops_url("ingest_ftp") == f"http://127.0.0.1:{stack.env['SENSR_FTP_OPS_PORT']}"


def test_a_stack_of_one_edge_needs_kafka_only(tmp_path: Path) -> None:
    stack = ServiceStack("127.0.0.1:9092", tmp_path, services=("ingest_http",), overrides={"SENSR_LOG_LEVEL": "DEBUG"})
    sensr = {name for name in stack.env if name.startswith("SENSR_")}
    assert sensr == {"SENSR_KAFKA_BOOTSTRAP", "SENSR_DATA_DIR", "SENSR_PUBLIC_HOST", "SENSR_LOG_FORMAT",
                     "SENSR_HTTP_PORT", "SENSR_LOG_LEVEL"}
    with pytest.raises(ValueError, match="S3 is needed by api"):
        ServiceStack("127.0.0.1:9092", tmp_path, services=("ingest_http", "api"))


def test_a_stack_starts_its_services_in_the_table_s_order_and_knows_no_others(tmp_path: Path) -> None:
    assert ServiceStack("127.0.0.1:9092", tmp_path, S3, services=("ingest_ftp", "api")).services == ("api", "ingest_ftp")
    with pytest.raises(KeyError, match="ingest_smtp"):
        ServiceStack("127.0.0.1:9092", tmp_path, services=("ingest_smtp",))
