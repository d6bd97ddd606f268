"""/readyz for the api: the database, Kafka and the object store are probed in the
background every few seconds, so the endpoint answers at once and never waits on the
network from the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sensr.logs import get_logger

log = get_logger(__name__)


class ReadinessMonitor:
    def __init__(self, probe: Callable[[], Awaitable[dict[str, bool]]], names: tuple[str, ...],
                 interval: float = 2.0) -> None:
        self._probe, self._interval = probe, interval
        self._checks = {name: False for name in names}
        self._task: asyncio.Task[None] | None = None

    def check(self) -> dict[str, bool]:
        """The latest result (all False until the first probe finished)."""
        return dict(self._checks)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="api-readiness")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            checks = await self._probe()
            if checks != self._checks:
                log.info("readiness", **checks)
            self._checks = checks
            await asyncio.sleep(self._interval)
