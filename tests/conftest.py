"""Session fixtures: the real Kafka, SeaweedFS and PostgreSQL (see tests/support/harness.py),
started lazily, once per test session, and the `SENSR_...` environment that points a
service at them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from infra.kafka_server import KafkaServer
from sensr.broker import ensure_topics
from sensr.index import FrameIndex
from sensr.settings import CoreSettings, KafkaSettings
from tests.support import harness
from tests.support.alert_receivers import HttpReceivers, Mailbox, http_receivers, smtp_server
from tests.support.kafka_tap import FrameTap


@pytest.fixture(scope="session")
def infra_stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def kafka_bootstrap(infra_stack: ExitStack) -> str:
    """A Kafka broker with Sensr's topics created."""
    bootstrap = harness.start_kafka(infra_stack)
    ensure_topics(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap))
    return bootstrap


@pytest.fixture(scope="session")
def s3_endpoint(infra_stack: ExitStack) -> harness.S3Endpoint:
    return harness.start_s3(infra_stack)


@pytest.fixture(scope="session")
def postgres_url(infra_stack: ExitStack) -> str:
    return harness.start_postgres(infra_stack)


@pytest.fixture
def kafka_env(kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """SENSR_ variables for a service that needs Kafka only; also set in os.environ for the test."""
    env = {"SENSR_KAFKA_BOOTSTRAP": kafka_bootstrap, "SENSR_DATA_DIR": str(tmp_path / "data"),
           "SENSR_LOG_FORMAT": "console"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def stack_env(kafka_env: dict[str, str], s3_endpoint: harness.S3Endpoint, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """SENSR_ variables for Kafka, S3 (a bucket of this test's own) and a SQLite index."""
    env = dict(kafka_env, **s3_endpoint.env(), SENSR_S3_BUCKET=f"test-{uuid.uuid4().hex[:12]}",
               SENSR_DATABASE_URL=f"sqlite:///{tmp_path / 'index.sqlite'}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd) on loopback, and its port."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def receivers() -> Iterator[HttpReceivers]:
    """Real HTTP servers on loopback that record what they receive (webhooks, Apprise)."""
    with http_receivers() as started:
        yield started


@pytest.fixture
def unique_name() -> str:
    """A name no other test uses (camera usernames, buckets, groups)."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def private_kafka() -> Iterator[KafkaServer]:
    """A Kafka broker of this test's own (with Sensr's topics), for tests that stop and
    restart the broker without disturbing the others. `.stop()` / `.start()` keep its
    port and data."""
    if os.environ.get("SENSR_TEST_KAFKA_BOOTSTRAP") or harness.docker_available():
        pytest.skip("broker restarts need the native Kafka of infra/")
    with ExitStack() as stack:
        broker = KafkaServer(harness.new_data_dir(stack, "private-kafka"))
        broker.start()
        stack.callback(broker.stop)
        ensure_topics(CoreSettings(), KafkaSettings(kafka_bootstrap=broker.bootstrap))
        yield broker


@pytest.fixture
def tap(kafka_bootstrap: str) -> Iterator[FrameTap]:
    """The frames published on sensr.frames from now on."""
    frames = FrameTap(kafka_bootstrap)
    yield frames
    frames.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A frame index database, once per kind: a SQLite file of this test's own, then the
    session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def index(index_url: str) -> Iterator[FrameIndex]:
    """The frame index at `index_url`, opened (and migrated) for the test."""
    opened = FrameIndex.open(index_url)
    yield opened
    opened.close()
