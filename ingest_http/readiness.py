"""Whether Kafka answers, for /readyz, checked in the background so the endpoint never
waits on the network."""

from __future__ import annotations

import asyncio

from sensr.logs import get_logger

log = get_logger(__name__)


class KafkaProbe:
    """Tries a TCP connection to the bootstrap servers every `interval` seconds;
    `reachable` is True while the last try got through to one of them."""

    def __init__(self, bootstrap: str, interval: float = 2.0, timeout: float = 1.0) -> None:
        self._servers = [_host_port(server) for server in bootstrap.split(",") if server.strip()]
        self._interval, self._timeout = interval, timeout
        self._task: asyncio.Task[None] | None = None
        self.reachable = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kafka-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            reachable = await self._any_answers()
            if reachable != self.reachable:
                log.info("kafka_reachability", reachable=reachable)
            self.reachable = reachable
            await asyncio.sleep(self._interval)

    async def _any_answers(self) -> bool:
        for host, port in self._servers:
            try:
                _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), self._timeout)
            except (OSError, asyncio.TimeoutError):
                continue
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass  # closed either way; the connection got through
            return True
        return False


def _host_port(server: str) -> tuple[str, int]:
    host, _, port = server.strip().rpartition(":")
    return host.strip("[]"), int(port)
