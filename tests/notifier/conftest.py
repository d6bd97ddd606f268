"""Fixtures of the notifier's service tests: the receivers, the environment of a notifier
(its own consumer group starting at the end of `sensr.activity`), notifiers started as
subprocesses and killed at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from launcher.service_stack import start_group_at_end
from sensr.broker import ACTIVITY
from sensr.index import FrameIndex
from tests.support.api import drop_postgres_database, new_postgres_database
from tests.support.alert_receivers import Mailbox
from tests.support.catalog_worker import Worker
from tests.support.notifier_stack import start_notifier
from workload.waiting import eventually


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, stack_env: dict[str, str]) -> Iterator[str]:
    """The index database (where the delivery log lives): the test's SQLite file, then a
    PostgreSQL database of the test's own (never the session's, whose schema other
    branches' tests migrate too)."""
    if request.param == "sqlite":
        yield stack_env["SENSR_DATABASE_URL"]
        return
    server = request.getfixturevalue("postgres_url")
    url, name = new_postgres_database(server)
    yield url
    drop_postgres_database(server, name)


@pytest.fixture
def notifier_env(stack_env: dict[str, str], unique_name: str, kafka_bootstrap: str,
                 mailbox: tuple[Mailbox, int], database_url: str) -> dict[str, str]:
    group = f"notifier-{unique_name}"
    start_group_at_end(kafka_bootstrap, group, ACTIVITY)
    return dict(stack_env, SENSR_DATABASE_URL=database_url, SENSR_NOTIFIER_GROUP_ID=group, SENSR_SMTP_HOST="127.0.0.1",
                SENSR_SMTP_PORT=str(mailbox[1]), SENSR_SMTP_SECURITY="plain",
                SENSR_NOTIFIER_ALLOWED_NETWORKS="127.0.0.0/8", SENSR_NOTIFIER_FIRST_RETRY_SECONDS="0.2",
                SENSR_NOTIFIER_POLL_SECONDS="0.2", SENSR_PUBLIC_URL="https://sensr.example")


@pytest.fixture
def notifiers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Starts notifiers and waits until each is ready; whatever still runs at the end is killed."""
    started: list[Worker] = []

    def start(env: dict[str, str], **overrides: str) -> Worker:
        worker = start_notifier(env, tmp_path / f"notifier-{len(started)}.log", **overrides)
        started.append(worker)
        eventually(lambda: _ready(worker), 60, 0.2,
                   what=lambda: f"notifier not ready:\n{worker.log_path.read_text()[-3000:]}")
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


def _ready(worker: Worker) -> bool:
    if worker.process.poll() is not None:
        raise AssertionError(f"notifier exited:\n{worker.log_path.read_text()[-3000:]}")
    try:
        return worker.get("/readyz")[0] == 200
    except OSError:
        return False


@pytest.fixture
def delivery_index(database_url: str) -> Iterator[FrameIndex]:
    """The test's index database (where the notifier keeps its delivery log)."""
    index = FrameIndex.open(database_url)
    yield index
    index.close()
