"""Fixtures of the activity worker's tests: workers started as subprocesses
(`python -m activity_worker`, so SIGKILL is real), each test's own consumer group
started at the end of `sensr.frames`, its own SQLite index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sensr.index import FrameIndex
from tests.support.activity_worker import ActivityTail
from tests.support.catalog_worker import group_env_fixture, worker_fixture

# A starter of (niced) activity workers; whatever still runs at the end is killed.
activity_workers = worker_fixture("activity_worker", "SENSR_ACTIVITY_OPS_PORT", {
    "SENSR_ACTIVITY_SESSION_TIMEOUT_MS": "6000", "SENSR_ACTIVITY_RETRY_MAX_SECONDS": "2",
    "SENSR_ACTIVITY_TICK_SECONDS": "0.2"}, command=["nice"])

activity_env = group_env_fixture("activity", "SENSR_ACTIVITY_GROUP_ID")


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
