"""Whether Kafka answers, for /readyz (probed in the background by `PeriodicProbe`)."""

from __future__ import annotations

import asyncio


async def kafka_answers(bootstrap: str, timeout: float = 1.0) -> bool:
    """True when a TCP connection to one of the bootstrap servers gets through."""
    for host, port in _servers(bootstrap):
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, asyncio.TimeoutError):
            continue
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass  # closed either way; the connection got through
        return True
    return False


def _servers(bootstrap: str) -> list[tuple[str, int]]:
    servers = []
    for server in bootstrap.split(","):
        if server.strip():
            host, _, port = server.strip().rpartition(":")
            servers.append((host.strip("[]"), int(port)))
    return servers
