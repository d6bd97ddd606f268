"""Reading the api's streamed answers in tests: MJPEG parts and server-sent events."""

from __future__ import annotations

from collections.abc import Iterator

import requests


class StreamReader:
    """Reads lines and exact byte counts from a streamed `requests` response."""

    def __init__(self, response: requests.Response) -> None:
        self._raw = response.raw
        self._buffer = b""

    def _fill(self) -> None:
        chunk = self._raw.read1(65536) if hasattr(self._raw, "read1") else self._raw.read(1)
        if not chunk:
            raise EOFError("the stream ended")
        self._buffer += chunk

    def line(self) -> bytes:
        while b"\n" not in self._buffer:
            self._fill()
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r")

    def exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data


def mjpeg_parts(response: requests.Response) -> Iterator[tuple[dict[str, str], bytes]]:
    """The parts of a multipart/x-mixed-replace response: (headers, body), as they arrive."""
    boundary = response.headers["Content-Type"].split("boundary=", 1)[1]
    reader = StreamReader(response)
    assert reader.line() == f"--{boundary}".encode()
    while True:
        headers = {}
        while line := reader.line():
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = reader.exactly(int(headers["content-length"]))
        assert reader.line() == b""
        assert reader.line() == f"--{boundary}".encode()
        yield headers, body


def sse_events(response: requests.Response) -> Iterator[dict[str, str]]:
    """Server-sent events as {field: value}, comments and the retry line skipped."""
    reader = StreamReader(response)
    event: dict[str, str] = {}
    while True:
        line = reader.line().decode()
        if line:
            name, _, value = line.partition(": ")
            if name:
                event[name] = value
        elif event:
            if "data" in event:
                yield event
            event = {}
