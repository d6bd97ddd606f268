"""The clip worker's fixtures: a stack of clip workers (one, and a second on demand) against
the session's Kafka and SeaweedFS, with a SQLite index the tests fill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.service_stack import LOOPBACK_LOAD, S3Endpoint, ServiceStack
from tests.support.clips import ProgressTap


@pytest.fixture(scope="module")
def clip_stack(kafka_bootstrap: str, s3_endpoint: S3Endpoint,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    stack = ServiceStack(kafka_bootstrap, tmp_path_factory.mktemp("clips"), s3_endpoint, services=("clip_worker",),
                         overrides={**LOOPBACK_LOAD, "SENSR_LOG_FORMAT": "console"})
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture
def progress(kafka_bootstrap: str) -> Iterator[ProgressTap]:
    tap = ProgressTap(kafka_bootstrap)
    yield tap
    tap.close()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path
