"""Fixtures of the activity worker's tests: workers started as subprocesses
(`python -m activity_worker`, so SIGKILL is real), each test's own consumer group
started at the end of `sensr.frames`, its own SQLite index."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from launcher.service_stack import start_group_at_end
from sensr.index import FrameIndex
from tests.support.activity_worker import ActivityTail
from tests.support.catalog_worker import Worker, worker_processes


@pytest.fixture
def activity_workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Starts activity workers (niced); whatever is still running at the end is killed."""
    with worker_processes("activity_worker", "SENSR_ACTIVITY_OPS_PORT", tmp_path, {
            "SENSR_ACTIVITY_SESSION_TIMEOUT_MS": "6000", "SENSR_ACTIVITY_RETRY_MAX_SECONDS": "2",
            "SENSR_ACTIVITY_TICK_SECONDS": "0.2"}, command=["nice"]) as start:
        yield start


@pytest.fixture
def activity_env(stack_env: dict[str, str], unique_name: str, kafka_bootstrap: str) -> dict[str, str]:
    """stack_env plus a consumer group of this test's own, starting at the topic's end."""
    group = f"activity-{unique_name}"
    start_group_at_end(kafka_bootstrap, group)
    return dict(stack_env, SENSR_ACTIVITY_GROUP_ID=group)


@pytest.fixture
def activity_index(activity_env: dict[str, str]) -> Iterator[FrameIndex]:
    index = FrameIndex.open(activity_env["SENSR_DATABASE_URL"])
    yield index
    index.close()


@pytest.fixture
def activity_tail(kafka_bootstrap: str) -> Iterator[ActivityTail]:
    tail = ActivityTail(kafka_bootstrap)
    yield tail
    tail.close()
