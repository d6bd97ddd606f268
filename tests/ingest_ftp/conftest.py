"""Fixtures of ingest_ftp's tests: services started with cameras of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from launcher.service_stack import ServiceStack
from tests.support.ingest_ftp import FtpService, register_cameras


@pytest.fixture(scope="module")
def start_service(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Start ingest_ftp services (each with its own cameras); all stopped when the module ends."""
    started: list[FtpService] = []

    def start(cameras: int = 0, bootstrap: str = kafka_bootstrap, disabled: int = 0, **settings: object) -> FtpService:
        stack = ServiceStack(bootstrap, tmp_path_factory.mktemp("ftp-data"), services=("ingest_ftp",),
                             overrides={f"SENSR_{name.upper()}": str(value) for name, value in settings.items()})
        stack.start_service("ingest_ftp", wait=False)
        running = FtpService(stack.processes["ingest_ftp"], stack.ftp_port, int(stack.setting("ftp_ops_port")),
                             register_cameras(bootstrap, cameras), register_cameras(bootstrap, disabled, enabled=False))
        started.append(running)
        stack.wait_ready("ingest_ftp", timeout=60)
        return running

    yield start
    for service in started:
        service.process.stop()
