"""The whole stack that each end-to-end module's tests share, on the session's Kafka and
SeaweedFS (faults that stop those start their own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from launcher.service_stack import LOOPBACK_LOAD, S3Endpoint, ServiceStack


@pytest.fixture(scope="module")
def stack_overrides() -> dict[str, str]:
    """Settings a module's stack sets besides LOOPBACK_LOAD (a module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, kafka_bootstrap: str, s3_endpoint: S3Endpoint,
          tmp_path_factory: pytest.TempPathFactory, stack_overrides: dict[str, str]) -> Iterator[ServiceStack]:
    name = request.module.__name__.rsplit(".", 1)[-1]
    running = ServiceStack(kafka_bootstrap, tmp_path_factory.mktemp(name) / "data", s3_endpoint,
                           overrides={**LOOPBACK_LOAD, **stack_overrides}).start()
    yield running
    running.stop()
