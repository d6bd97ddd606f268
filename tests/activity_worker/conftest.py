"""Fixtures of the activity worker's tests: workers started as subprocesses
(`python -m activity_worker`, so SIGKILL is real), each test's own consumer group
started at the end of `sensr.frames`, its own SQLite index."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.process import free_port
from launcher.service_stack import start_group_at_end
from sensr.index import FrameIndex
from tests.support.activity_worker import ActivityTail
from tests.support.catalog_worker import Worker


@pytest.fixture
def activity_workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Starts activity workers; whatever is still running at the end is killed."""
    started: list[Worker] = []

    def start(env: dict[str, str], **overrides: str) -> Worker:
        port = free_port()
        log_path = tmp_path / f"activity-{len(started)}.log"
        full_env = {**os.environ, **env, "SENSR_ACTIVITY_OPS_PORT": str(port), "SENSR_LOG_FORMAT": "json",
                    "SENSR_ACTIVITY_SESSION_TIMEOUT_MS": "6000", "SENSR_ACTIVITY_RETRY_MAX_SECONDS": "2",
                    "SENSR_ACTIVITY_TICK_SECONDS": "0.2", **overrides}
        with log_path.open("wb") as log:
            process = subprocess.Popen(["nice", sys.executable, "-m", "activity_worker"], env=full_env,
                                       stdout=subprocess.DEVNULL, stderr=log)
        worker = Worker(process, port, log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


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
