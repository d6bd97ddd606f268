"""Tornado's HTTP server with a limit on the connections one client address holds at once.

Tornado bounds the time a client has to send its headers (`idle_connection_timeout`) and
body (`body_timeout`), but not how many connections one address may keep open: a single
host could hold thousands of sockets (and their buffers) while trickling headers.
`CappedHTTPServer` answers a connection beyond `max_connections_per_address` with a 503
and closes it, before reading anything from it.

The address is the socket's peer: behind a reverse proxy every client has the proxy's
address, so there the limit must be off (0) or above what the proxy opens.
"""

from __future__ import annotations

from collections import Counter as Tally
from typing import Any

from prometheus_client import Counter
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError

REFUSED = Counter("sensr_http_connections_refused", "Connections closed at once because their client address "
                  "held as many as allowed already, by server", ["server"])
_REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Connection: close\r\nContent-Length: 40\r\n\r\ntoo many connections from your address\r\n")


class CappedHTTPServer(HTTPServer):
    """`HTTPServer(app, ..., max_connections_per_address=n, name="api")`; n = 0: no limit.
    Everything else as Tornado's `HTTPServer`."""

    def initialize(self, *args: Any, max_connections_per_address: int = 0, name: str = "http",
                   **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self._cap = max_connections_per_address
        self._refused = REFUSED.labels(name)
        self._open: Tally[str] = Tally()
        self._hosts: dict[IOStream, str] = {}

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...] | str) -> None:
        host = address[0] if isinstance(address, tuple) else ""  # "": a Unix socket
        if self._cap and self._open[host] >= self._cap:
            self._refused.inc()
            IOLoop.current().spawn_callback(_refuse, stream)
            return
        self._open[host] += 1
        self._hosts[stream] = host
        super().handle_stream(stream, address)

    def on_close(self, server_conn: object) -> None:
        host = self._hosts.pop(server_conn.stream, None)  # type: ignore[attr-defined]
        if host is not None:
            self._open[host] -= 1
            if self._open[host] <= 0:
                del self._open[host]
        super().on_close(server_conn)


async def _refuse(stream: IOStream) -> None:
    try:
        await stream.write(_REFUSAL)
    except StreamClosedError:
        pass
    finally:
        stream.close()
