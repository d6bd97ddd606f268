"""compose.yaml and the Dockerfile, checked without a Docker engine.

- compose.yaml is valid against the Compose Specification's JSON schema (vendored in
  tests/schemas/, see the README there), both as written and after variable interpolation
  (with defaults, and with every variable overridden);
- it stays in step with the native stack: every `SENSR_...` name is a real setting, the
  values parse with the settings models, the default published ports are the settings'
  defaults, Kafka allows the largest record Sensr produces;
- the stack is wired sensibly: health checks, `service_healthy` dependencies, named volumes;
- the image builds on paper: what the Dockerfile copies is in the build context (after
  .dockerignore), and a wheel built from exactly that context holds every service;
- the same stack runs natively: the four services, started with exactly the environment
  compose gives them (in-network addresses pointed at the test session's Kafka, S3 and
  PostgreSQL), turn healthy by their compose health checks and stop within the grace period.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from jsonschema import Draft202012Validator
from sqlalchemy.engine import make_url

from infra.kafka_server import DEFAULT_MAX_MESSAGE_BYTES, KafkaServer
from infra.process import ManagedProcess, free_ports, log_tail
from sensr.broker import max_record_bytes
from sensr.settings import SECTIONS, CoreSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "compose-spec.json"

SERVICES = ("ingest_http", "ingest_ftp", "catalog_worker", "activity_worker", "notifier", "api", "clip_worker")
SENSR_IMAGE = "sensr:local"

# Settings (field name -> section) and their defaults, straight from sensr/settings.py.
FIELDS = {name: section for section in SECTIONS for name in section.model_fields}
# Variables compose.yaml uses that are not Sensr settings (documented in its header).
COMPOSE_ONLY = {"CATALOG_REPLICAS", "NOTIFIER_REPLICAS", "CLIP_REPLICAS", "POSTGRES_PASSWORD", "INFRA_BIND_ADDRESS",
                "KAFKA_HOST_PORT",
                "KAFKA_ADVERTISED_HOST", "S3_HOST_PORT"}
# Settings whose compose default differs from the native default on purpose.
DIFFERENT_DEFAULTS = {
    # Behind Docker's NAT, PASV must name the host's address, not the container's.
    "SENSR_FTP_MASQUERADE_ADDRESS",
}


# --- Compose interpolation (https://compose-spec.io, "Interpolation") -----------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


def _substitute(text: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        if op in (":-", "-"):
            missing = value is None or (op == ":-" and value == "")
            return arg if missing else value  # type: ignore[return-value]
        if op in (":?", "?"):
            if value is None or (op == ":?" and value == ""):
                raise KeyError(f"required variable {name} is missing: {arg}")
            return value
        if op in (":+", "+"):
            present = value is not None and (op == "+" or value != "")
            return arg if present else ""
        return value or ""

    result = _VARIABLE.sub(replace, text)
    assert "${" not in result, f"unresolved interpolation in {text!r}"
    return result


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """The compose model after interpolation: every string value substituted."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, str):
        return _substitute(node, env)
    return node


def variables(text: str) -> dict[str, list[str | None]]:
    """Each interpolated variable and the defaults given for it (None: no default)."""
    found: dict[str, list[str | None]] = {}
    for match in _VARIABLE.finditer(text):
        name = match["braced"] or match["named"]
        if name:
            default = match["arg"] if match["op"] in (":-", "-") else None
            found.setdefault(name, []).append(default)
    return found


@pytest.fixture(scope="module")
def text() -> str:
    return COMPOSE.read_text()


@pytest.fixture(scope="module")
def raw(text: str) -> dict[str, Any]:
    return yaml.safe_load(text)  # YAML merge keys (<<) are resolved here, as compose does


@pytest.fixture(scope="module")
def model(raw: dict[str, Any]) -> dict[str, Any]:
    """compose.yaml as `docker compose config` would see it with no variables set."""
    return interpolate(raw, {})


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _errors(validator: Draft202012Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))]


def _sensr_services(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in model["services"].items() if service.get("image") == SENSR_IMAGE}


def _env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def _published(service: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(host ip, published, target) of each short-syntax port mapping."""
    for port in service.get("ports", []):
        spec = str(port).split("/")[0]
        parts = spec.split(":")
        if len(parts) == 1:
            yield "", "", parts[0]
        elif len(parts) == 2:
            yield "", parts[0], parts[1]
        else:
            yield ":".join(parts[:-2]), parts[-2], parts[-1]


# --- The Compose Specification ------------------------------------------------------------

def test_schema_is_the_compose_specification(validator: Draft202012Validator) -> None:
    assert validator.schema["title"] == "Compose Specification"
    assert {"services", "volumes", "networks"} <= set(validator.schema["properties"])


def test_compose_file_is_valid_as_written(validator: Draft202012Validator, raw: dict[str, Any]) -> None:
    assert _errors(validator, raw) == []


def test_compose_file_is_valid_after_interpolation(validator: Draft202012Validator, model: dict[str, Any]) -> None:
    assert _errors(validator, model) == []


def test_compose_file_is_valid_with_every_variable_overridden(validator: Draft202012Validator, text: str,
                                                             raw: dict[str, Any]) -> None:
    overrides = {
        "SENSR_API_PORT": "18000", "SENSR_HTTP_PORT": "18080", "SENSR_FTP_PORT": "12121",
        "SENSR_FTP_PASSIVE_PORTS": "31000-31009", "SENSR_FTP_OPS_PORT": "18021",
        "SENSR_FTP_MASQUERADE_ADDRESS": "192.0.2.10", "CATALOG_REPLICAS": "4", "KAFKA_HOST_PORT": "19092",
    }
    env = {name: overrides.get(name, "x") for name in variables(text)}
    env.update(overrides)
    model = interpolate(raw, env)
    assert _errors(validator, model) == []
    services = model["services"]
    assert ("", "31000-31009", "31000-31009") in set(_published(services["ingest_ftp"]))
    assert ("", "18080", "18080") in set(_published(services["ingest_http"]))
    assert _env(services["ingest_ftp"])["SENSR_FTP_MASQUERADE_ADDRESS"] == "192.0.2.10"
    assert services["catalog_worker"]["deploy"]["replicas"] == "4"
    assert "EXTERNAL://x:19092" in services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]


def test_schema_rejects_a_broken_compose_file(validator: Draft202012Validator, model: dict[str, Any]) -> None:
    """The schema really checks: a typo in a service key is caught."""
    broken = json.loads(json.dumps(model))
    broken["services"]["api"]["helthcheck"] = broken["services"]["api"].pop("healthcheck")
    assert _errors(validator, broken)


# --- In step with sensr/settings.py ---------------------------------------------------

def test_every_sensr_variable_is_a_setting(text: str) -> None:
    """Environment keys, interpolated variables and names in comments alike."""
    named = set(re.findall(r"\bSENSR_[A-Z0-9_]+", text))
    unknown = sorted(name for name in named if name.removeprefix("SENSR_").lower() not in FIELDS)
    assert unknown == [], f"not in sensr/settings.py: {unknown}"


def test_other_variables_are_the_documented_compose_only_ones(text: str) -> None:
    header = text.split("\nname:", 1)[0]
    for name in variables(text):
        if not name.startswith("SENSR_"):
            assert name in COMPOSE_ONLY, f"{name}: not a Sensr setting; name it SENSR_ or document it"
        assert re.search(rf"^#\s+{name}\s", header, re.M), f"{name} is not documented in compose.yaml's header"


def test_interpolation_defaults_equal_the_settings_defaults(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, defaults in variables(text).items():
        if not name.startswith("SENSR_") or name in DIFFERENT_DEFAULTS:
            continue
        field = name.removeprefix("SENSR_").lower()
        section = FIELDS[field]
        expected = section.model_fields[field].default
        for default in defaults:
            assert default is not None, f"${{{name}}} has no default"
            monkeypatch.setenv(name, default)
            assert getattr(section(), field) == expected, f"{name}: compose default {default!r} != {expected!r}"
            monkeypatch.delenv(name)


def test_services_environment_parses_as_settings(model: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, service in _sensr_services(model).items():
        for key in [key for key in os.environ if key.startswith("SENSR_")]:
            monkeypatch.delenv(key)
        for key, value in _env(service).items():
            monkeypatch.setenv(key, value)
        for section in SECTIONS:
            section()  # raises a ValidationError naming the bad variable
    assert len(_sensr_services(model)) == len(SERVICES) + 1  # + the kafka-init one-shot


def test_services_listen_on_every_interface_in_their_containers(model: dict[str, Any]) -> None:
    services = model["services"]
    assert _env(services["ingest_http"])["SENSR_HTTP_HOST"] == "0.0.0.0"
    assert _env(services["ingest_ftp"])["SENSR_FTP_HOST"] == "0.0.0.0"
    assert _env(services["api"])["SENSR_API_HOST"] == "0.0.0.0"
    assert _env(services["catalog_worker"])["SENSR_CATALOG_OPS_HOST"] == "0.0.0.0"
    assert _env(services["activity_worker"])["SENSR_ACTIVITY_OPS_HOST"] == "0.0.0.0"
    assert _env(services["ingest_ftp"])["SENSR_FTP_MASQUERADE_ADDRESS"]
    for name in SERVICES:
        env = _env(services[name])
        assert env["SENSR_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["SENSR_DATABASE_URL"].startswith("postgresql://")
        assert env["SENSR_DATABASE_URL"].endswith("@postgres:5432/sensr")
        assert env["SENSR_S3_ENDPOINT"] == "seaweedfs:8333"


def test_default_published_ports_are_the_settings_defaults(model: dict[str, Any]) -> None:
    defaults = {name: FIELDS[name].model_fields[name].default for name in
                ("api_port", "http_port", "ftp_port", "ftp_passive_ports", "ftp_ops_port")}
    assert defaults == {"api_port": 8000, "http_port": 8080, "ftp_port": 2121,
                        "ftp_passive_ports": "30000-30049", "ftp_ops_port": 8021}
    services = model["services"]
    assert ("", "8000", "8000") in set(_published(services["api"]))
    assert ("", "8080", "8080") in set(_published(services["ingest_http"]))
    ftp = set(_published(services["ingest_ftp"]))
    assert {("", "2121", "2121"), ("", "30000-30049", "30000-30049"), ("", "8021", "8021")} <= ftp
    assert "ports" not in services["catalog_worker"]  # replicas could not share a host port
    # Each service listens in its container on the port that is published.
    assert _env(services["api"])["SENSR_API_PORT"] == "8000"
    assert _env(services["ingest_http"])["SENSR_HTTP_PORT"] == "8080"
    assert _env(services["ingest_ftp"])["SENSR_FTP_PORT"] == "2121"
    assert _env(services["ingest_ftp"])["SENSR_FTP_PASSIVE_PORTS"] == "30000-30049"


def test_published_ports_follow_the_settings(raw: dict[str, Any]) -> None:
    env = {"SENSR_API_PORT": "9000", "SENSR_HTTP_PORT": "9080", "SENSR_FTP_PORT": "2221",
           "SENSR_FTP_PASSIVE_PORTS": "40000-40009", "SENSR_FTP_OPS_PORT": "9021"}
    services = interpolate(raw, env)["services"]
    assert ("", "9000", "9000") in set(_published(services["api"]))
    assert {("", "2221", "2221"), ("", "40000-40009", "40000-40009")} <= set(_published(services["ingest_ftp"]))
    for name in SERVICES:
        assert {key: value for key, value in _env(services[name]).items() if key in env} == env
    assert "9080/readyz" in " ".join(services["ingest_http"]["healthcheck"]["test"])


def test_kafka_allows_the_largest_frame(model: dict[str, Any]) -> None:
    kafka = model["services"]["kafka"]["environment"]
    largest = max_record_bytes(CoreSettings())
    assert largest == 16 * 1024 * 1024 + 64 * 1024 == 16842752 == DEFAULT_MAX_MESSAGE_BYTES
    assert int(kafka["KAFKA_MESSAGE_MAX_BYTES"]) == largest
    assert int(kafka["KAFKA_REPLICA_FETCH_MAX_BYTES"]) >= largest
    assert int(kafka["KAFKA_SOCKET_REQUEST_MAX_BYTES"]) >= largest
    assert str(kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]) == "false"


def test_kafka_is_a_single_kraft_node_reachable_in_and_out(model: dict[str, Any]) -> None:
    kafka = model["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:4.3.1"
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["CLUSTER_ID"]
    listeners = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert listeners["INTERNAL"] == "kafka:9092"
    assert listeners["EXTERNAL"] == "localhost:9092"
    assert ("127.0.0.1", "9092", "9094") in set(_published(kafka))
    assert env["KAFKA_LOG_DIRS"] in {volume.split(":")[1] for volume in kafka["volumes"]}


def test_seaweedfs_serves_s3_with_sensr_credentials(model: dict[str, Any]) -> None:
    seaweedfs = model["services"]["seaweedfs"]
    assert seaweedfs["image"].startswith("chrislusf/seaweedfs:")
    assert seaweedfs["command"][0] == "mini"
    assert "-s3.port=8333" in seaweedfs["command"]
    env = _env(model["services"]["api"])
    assert seaweedfs["environment"]["AWS_ACCESS_KEY_ID"] == env["SENSR_S3_ACCESS_KEY"]
    assert seaweedfs["environment"]["AWS_SECRET_ACCESS_KEY"] == env["SENSR_S3_SECRET_KEY"]
    assert f"-bucket={env['SENSR_S3_BUCKET']}" in seaweedfs["command"]


def test_postgres_matches_the_database_url(model: dict[str, Any]) -> None:
    postgres = model["services"]["postgres"]
    assert postgres["image"] == "postgres:15"
    env = postgres["environment"]
    url = _env(model["services"]["catalog_worker"])["SENSR_DATABASE_URL"]
    assert url == f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/{env['POSTGRES_DB']}"
    assert "pg_isready" in postgres["healthcheck"]["test"]


# --- Wiring ------------------------------------------------------------------------------

def test_services_run_their_package_from_the_one_image(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in SERVICES:
        service = services[name]
        assert service["image"] == SENSR_IMAGE and service["build"]["context"] == "."
        assert service["command"] == ["python", "-m", name]
        assert (ROOT / name / "__main__.py").exists(), f"{name}/__main__.py is missing"
        assert service.get("init") is True, f"{name}: PID 1 must forward SIGTERM"


def test_every_long_running_service_has_a_health_check(model: dict[str, Any]) -> None:
    ops_ports = {"ingest_http": "8080", "ingest_ftp": "8021", "catalog_worker": "8091", "activity_worker": "8092",
                 "notifier": "8093", "clip_worker": "8094", "api": "8000"}
    for name, service in model["services"].items():
        if service.get("restart") == "no":
            continue  # one-shot
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        if name in ops_ports:
            assert f"127.0.0.1:{ops_ports[name]}/readyz" in " ".join(test)


def test_dependencies_wait_for_health(model: dict[str, Any]) -> None:
    services = model["services"]
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in services
            wanted = ("service_completed_successfully" if services[dependency].get("restart") == "no"
                      else "service_healthy")
            assert spec["condition"] == wanted, f"{name} -> {dependency}"
    needs = {"ingest_http": {"kafka", "kafka-init"}, "ingest_ftp": {"kafka", "kafka-init"},
             "catalog_worker": {"kafka", "kafka-init", "seaweedfs", "postgres"},
             "activity_worker": {"kafka", "kafka-init", "postgres"},
             "notifier": {"kafka", "kafka-init", "seaweedfs", "postgres"},
             "api": {"kafka", "kafka-init", "seaweedfs", "postgres"}, "kafka-init": {"kafka"},
             "clip_worker": {"kafka", "kafka-init", "seaweedfs", "postgres"}}
    for name, wanted in needs.items():
        assert set(services[name]["depends_on"]) == wanted, name


def test_named_volumes_hold_the_data(model: dict[str, Any]) -> None:
    declared = set(model["volumes"])
    used = set()
    for service in model["services"].values():
        for volume in service.get("volumes", []):
            if isinstance(volume, str):
                source = volume.split(":")[0]
                assert not source.startswith((".", "/")), f"bind mount {volume}"
                used.add(source)
    assert used == declared == {"kafka-data", "seaweedfs-data", "postgres-data", "api-data"}


def test_catalog_worker_replicas_are_configurable(raw: dict[str, Any]) -> None:
    worker = interpolate(raw, {"CATALOG_REPLICAS": "3"})["services"]["catalog_worker"]
    assert worker["deploy"]["replicas"] == "3"
    assert "container_name" not in worker


# --- The Dockerfile ------------------------------------------------------------------------

def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in joined.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in lines if line and not line.startswith("#")]


def _ignored(relative: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for the patterns Sensr uses (last match wins, ! re-includes)."""
    ignored = False
    parts = relative.split("/")
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if pattern.startswith("**/"):
            hit = any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
        else:
            hit = any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes)
        if hit:
            ignored = not negate
    return ignored


def _dockerignore() -> list[str]:
    return [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_dockerfile_builds_a_slim_non_root_image() -> None:
    instructions = _instructions()
    froms = [arg for op, arg in instructions if op == "FROM"]
    assert froms and all(arg.split()[0] == "python:3.11-slim" for arg in froms)
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "pip install" in runs and "useradd" in runs


def test_dockerfile_copies_only_what_the_context_holds() -> None:
    patterns = _dockerignore()
    for op, arg in _instructions():
        if op != "COPY" or arg.startswith("--from"):
            continue
        for source in arg.split()[:-1]:
            path = source.rstrip("/")
            assert (ROOT / path).exists(), f"COPY {source}: missing"
            assert not _ignored(path, patterns), f"COPY {source}: excluded by .dockerignore"
    assert _ignored("infra/kafka/target/dependency/kafka.jar", patterns)
    assert _ignored(".git/HEAD", patterns) and _ignored("sensr/__pycache__/x.pyc", patterns)
    assert not _ignored("sensr/settings.py", patterns)


def _setuptools_builds_wheels() -> bool:
    """setuptools >= 70.1 builds wheels by itself, and pyproject.toml asks for >= 68."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):  # not installed, or an unusual version string
        return False
    return (major, minor) >= (70, 1)


def test_wheel_from_the_build_context_holds_every_service(tmp_path: Path) -> None:
    """What `pip wheel .` makes of the build context (after .dockerignore), as the image's first stage."""
    patterns = _dockerignore()
    context = tmp_path / "context"
    copied = []
    for op, arg in _instructions():
        if op == "COPY" and not arg.startswith("--from"):
            copied += arg.split()[:-1]
    for source in copied:
        base = ROOT / source.rstrip("/")
        for path in ([base] if base.is_file() else sorted(base.rglob("*"))):
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and not _ignored(relative, patterns):
                (context / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, context / relative)
    sources = {path.relative_to(context).as_posix() for path in context.rglob("*")
               if path.is_file() and "/" in path.relative_to(context).as_posix()}
    wheels = tmp_path / "wheels"
    # Offline with the setuptools of the test extras; an older one (no bdist_wheel) gets the
    # isolated build the image does, which fetches setuptools from PyPI.
    offline = ["--no-build-isolation", "--no-index"] if _setuptools_builds_wheels() else []
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *offline, "--quiet",
                    "--wheel-dir", str(wheels), str(context)], check=True, timeout=300)
    (wheel,) = wheels.glob("sensr-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in SERVICES:
        assert f"{package}/__main__.py" in names, f"python -m {package} would fail in the image"
    # Every file of the packages reaches the image: templates, static files and migrations
    # included (a file missing here works in an editable install and fails in the container).
    assert sources - names == set(), "in the build context but not in the wheel (package data?)"
    assert "sensr/settings.py" in names and "infra/kafka/pom.xml" in names
    assert "launcher/cli.py" in names, "the `sensr` command would be missing from the image"


# --- The compose environment, natively -------------------------------------------------------

def _docker_grace_seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)s", value)
    assert match, f"unexpected duration {value!r}"
    return float(match[1])


@pytest.mark.slow
def test_services_turn_healthy_with_the_compose_environment(
        raw: dict[str, Any], private_kafka: KafkaServer, s3_endpoint: Any, postgres_url: str,
        tmp_path: Path) -> None:
    """Each service and the kafka-init one-shot, run as compose would run them (same command,
    environment, health check), with only the in-network addresses translated to the test
    session's services: a private Kafka (the catalog worker reads the whole topic) and a
    database of its own."""
    api, http, ftp, ftp_ops, catalog_ops, passive = free_ports(6)
    variables = {"SENSR_API_PORT": str(api), "SENSR_HTTP_PORT": str(http), "SENSR_FTP_PORT": str(ftp),
                 "SENSR_FTP_OPS_PORT": str(ftp_ops), "SENSR_CATALOG_OPS_PORT": str(catalog_ops),
                 "SENSR_FTP_PASSIVE_PORTS": f"{passive}-{passive}", "SENSR_LOG_FORMAT": "console",
                 "SENSR_S3_ACCESS_KEY": s3_endpoint.access_key, "SENSR_S3_SECRET_KEY": s3_endpoint.secret_key,
                 "SENSR_S3_BUCKET": f"compose-{uuid.uuid4().hex[:12]}"}
    services = interpolate(raw, variables)["services"]
    database = f"compose_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    database_url = make_url(postgres_url).set(database=database).render_as_string(hide_password=False)
    network = {"kafka:9092": private_kafka.bootstrap, "seaweedfs:8333": s3_endpoint.endpoint}

    def native_env(name: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("SENSR_")}
        for key, value in _env(services[name]).items():
            env[key] = network.get(value, value)
        assert env["SENSR_DATABASE_URL"].endswith("@postgres:5432/sensr")
        env["SENSR_DATABASE_URL"] = database_url
        env["SENSR_DATA_DIR"] = str(tmp_path / name)
        for key in ("SENSR_HTTP_HOST", "SENSR_FTP_HOST", "SENSR_API_HOST", "SENSR_CATALOG_OPS_HOST"):
            if env.get(key) == "0.0.0.0":
                env[key] = "127.0.0.1"  # this machine: loopback only (the health checks use it)
        return env

    def healthy(name: str) -> bool:
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD"
        argv = [sys.executable if part == "python" else part for part in test[1:]]
        return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0

    init = services["kafka-init"]["command"]
    subprocess.run([sys.executable, *init[1:]], env=native_env("kafka-init"), check=True, timeout=120)

    started: dict[str, ManagedProcess] = {}
    try:
        for name in SERVICES:
            command = services[name]["command"]
            process = ManagedProcess(name, [sys.executable, *command[1:]], tmp_path / f"{name}.log",
                                     env=native_env(name), cwd=tmp_path)
            process.start()
            started[name] = process
        for name, process in started.items():
            process.wait_ready(lambda name=name: healthy(name), timeout=120)
        for name, process in started.items():
            grace = _docker_grace_seconds(services[name]["stop_grace_period"])
            began = time.monotonic()
            process.popen.send_signal(signal.SIGTERM)  # what `docker compose stop` sends (via tini)
            try:
                process.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{name} ignored SIGTERM for {grace:.0f}s:\n{log_tail(process.log_path)}")
            assert time.monotonic() - began < grace
    finally:
        for process in started.values():
            process.kill()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
