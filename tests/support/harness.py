"""The test harness: brings up Kafka, SeaweedFS and PostgreSQL once per test session and
hands tests their connection settings. Three ways in, chosen per service:

1. `SENSR_TEST_KAFKA_BOOTSTRAP`, `SENSR_TEST_S3_ENDPOINT` (+ `SENSR_TEST_S3_ACCESS_KEY`,
   `SENSR_TEST_S3_SECRET_KEY`), `SENSR_TEST_DATABASE_URL`: services you already run.
2. testcontainers, when `SENSR_TEST_DOCKER=1` or a Docker engine answers.
3. Otherwise the native services of `infra/` (installed by `make install`), each on
   free ports with data in a temporary folder, stopped at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import ExitStack
from functools import cache
from pathlib import Path

from infra.kafka_server import KafkaServer
from infra.postgres import PostgresCluster
from infra.seaweedfs import SeaweedS3
from launcher.servers import named_s3
from launcher.service_stack import S3Endpoint
from workload.waiting import eventually  # noqa: F401 (the tests' one way to wait on state)


@cache
def docker_available() -> bool:
    """True when tests should use testcontainers: asked for, or a Docker engine answers."""
    if os.environ.get("SENSR_TEST_DOCKER") == "1":
        return True
    if os.environ.get("SENSR_TEST_DOCKER") == "0":
        return False
    if not (os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists()):
        return False
    try:
        import docker
        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def new_data_dir(stack: ExitStack, name: str) -> Path:
    """A fresh folder that the `postgres` user can also enter; removed when the stack closes."""
    path = Path(tempfile.mkdtemp(prefix=f"sensr-test-{name}-"))
    path.chmod(0o755)
    stack.callback(shutil.rmtree, path, ignore_errors=True)
    return path


def start_kafka(stack: ExitStack) -> str:
    if bootstrap := os.environ.get("SENSR_TEST_KAFKA_BOOTSTRAP"):
        return bootstrap
    if docker_available():
        from testcontainers.kafka import KafkaContainer
        container = stack.enter_context(KafkaContainer("apache/kafka:4.3.1").with_kraft())
        return container.get_bootstrap_server()
    broker = KafkaServer(new_data_dir(stack, "kafka"))
    broker.start()
    stack.callback(broker.stop)
    return broker.bootstrap


def start_s3(stack: ExitStack) -> S3Endpoint:
    if (named := named_s3()) is not None:
        return named
    access, secret = "sensr", "sensr-secret-key"
    if docker_available():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.wait_strategies import HttpWaitStrategy
        container = (DockerContainer("chrislusf/seaweedfs:4.48")
                     .with_command("mini -dir=/data")
                     .with_env("AWS_ACCESS_KEY_ID", access).with_env("AWS_SECRET_ACCESS_KEY", secret)
                     .with_exposed_ports(8333)
                     .waiting_for(HttpWaitStrategy(8333).for_status_code_matching(lambda code: code < 600)))
        container = stack.enter_context(container)
        return S3Endpoint(f"{container.get_container_host_ip()}:{container.get_exposed_port(8333)}", access, secret)
    server = SeaweedS3(new_data_dir(stack, "seaweedfs"), access, secret)
    server.start()
    stack.callback(server.stop)
    return S3Endpoint(server.endpoint, access, secret)


def start_postgres(stack: ExitStack) -> str:
    if url := os.environ.get("SENSR_TEST_DATABASE_URL"):
        return url
    if docker_available():
        from testcontainers.postgres import PostgresContainer
        container = stack.enter_context(PostgresContainer("postgres:15", driver=None))
        return container.get_connection_url()
    cluster = PostgresCluster(new_data_dir(stack, "postgres"))
    cluster.start()
    stack.callback(cluster.stop)
    return cluster.url
