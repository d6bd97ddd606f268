"""Fixtures of the catalog worker's tests: workers started as subprocesses, each test's
own consumer group, and an exit stack for what a test starts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from infra.seaweedfs import SeaweedS3
from launcher.service_stack import S3Endpoint
from tests.support import harness
from tests.support.catalog_worker import SEGMENT_AGE_S, group_env_fixture, worker_fixture

# A starter of catalog workers; whatever still runs at the end is killed.
workers = worker_fixture("catalog_worker", "SENSR_CATALOG_OPS_PORT", {
    "SENSR_CATALOG_SESSION_TIMEOUT_MS": "6000", "SENSR_CATALOG_RETRY_MAX_SECONDS": "2",
    "SENSR_CATALOG_BATCH_SIZE": "50", "SENSR_CATALOG_UPLOAD_THREADS": "8",
    "SENSR_SEGMENT_MAX_AGE_S": str(SEGMENT_AGE_S)})

env = group_env_fixture("catalog", "SENSR_CATALOG_GROUP_ID")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[ExitStack]:
    with ExitStack() as exit_stack:
        yield exit_stack


@pytest.fixture
def private_seaweed(stack: ExitStack) -> SeaweedS3:
    """A SeaweedFS of this test's own, for tests that stop and start the object store."""
    if harness.docker_available() or shutil.which("weed") is None:
        pytest.skip("stopping the object store needs the native SeaweedFS of infra/")
    seaweed = SeaweedS3(harness.new_data_dir(stack, "private-s3"))
    seaweed.start()
    stack.callback(seaweed.stop)
    return seaweed


@pytest.fixture
def private_store_env(env: dict[str, str], private_seaweed: SeaweedS3) -> dict[str, str]:
    """`env` with the object store pointed at `private_seaweed`."""
    endpoint = S3Endpoint(private_seaweed.endpoint, private_seaweed.access_key, private_seaweed.secret_key)
    return dict(env, **endpoint.env())
