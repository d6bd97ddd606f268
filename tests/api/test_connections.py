"""The api bounds what one client can hold open (issue 17, finding 6): a connection
trickling its headers is closed once the header timeout passes, an address at its
connection limit gets a 503 for one more, and other clients are served meanwhile.
Bounded: at most 21 loopback sockets, timeouts lowered to seconds."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests

from tests.support.harness import S3Endpoint, eventually
from tests.support.api import ApiStack, stack_env, start_stack

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 2.0
CAP = 10


def _stack(kafka_bootstrap: str, s3: S3Endpoint, tmp_path_factory: pytest.TempPathFactory,
           **overrides: str) -> Iterator[ApiStack]:
    data_dir = tmp_path_factory.mktemp("connections")
    stack = start_stack(stack_env(kafka_bootstrap, s3, f"sqlite:///{data_dir / 'sensr.sqlite'}", data_dir,
                                  **overrides), data_dir)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def impatient_api(kafka_bootstrap: str, s3_endpoint: S3Endpoint, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[ApiStack]:
    yield from _stack(kafka_bootstrap, s3_endpoint, tmp_path_factory, SENSR_API_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
                      SENSR_API_BODY_TIMEOUT=str(BODY_TIMEOUT))


@pytest.fixture(scope="module")
def capped_api(kafka_bootstrap: str, s3_endpoint: S3Endpoint, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[ApiStack]:
    """A header timeout long enough that idle sockets stay open for the whole test."""
    yield from _stack(kafka_bootstrap, s3_endpoint, tmp_path_factory, SENSR_API_HEADER_TIMEOUT="300",
                      SENSR_API_MAX_CONNECTIONS_PER_ADDRESS=str(CAP))


def connect(stack: ApiStack, source: str) -> socket.socket:
    port = int(stack.env["SENSR_API_PORT"])
    return socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed `sock` (reads what it sent first, if anything)."""
    sock.settimeout(0)
    try:
        while chunk := sock.recv(4096):
            del chunk
        return True
    except BlockingIOError:
        return False
    except OSError:  # reset
        return True


def healthy(stack: ApiStack) -> bool:
    return requests.get(f"{stack.url}/healthz", timeout=30).status_code == 200


def test_a_client_trickling_its_headers_is_closed_after_the_header_timeout(impatient_api: ApiStack) -> None:
    with ExitStack() as stack:
        slow = [stack.enter_context(connect(impatient_api, "127.0.0.5")) for _ in range(CAP)]
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: sensr\r\n")
        opened, line = time.monotonic(), 0
        open_ = list(slow)
        while open_ and time.monotonic() - opened < HEADER_TIMEOUT + 30:
            line += 1
            for sock in list(open_):
                if closed_by_server(sock):
                    open_.remove(sock)
                    continue
                try:
                    sock.sendall(f"X-Trickle-{line}: 1\r\n".encode())  # one header line at a time
                except OSError:
                    open_.remove(sock)
            if line == 1:
                assert healthy(impatient_api)  # meanwhile, others are served
            time.sleep(0.5)
        assert not open_, f"{len(open_)} of {len(slow)} trickling connections still open"
        assert time.monotonic() - opened >= HEADER_TIMEOUT * 0.9  # not before the timeout either
    assert healthy(impatient_api)


def test_a_client_trickling_its_body_is_closed_after_the_body_timeout(impatient_api: ApiStack) -> None:
    with connect(impatient_api, "127.0.0.5") as sock:
        sock.sendall(b"POST /api/v1/users HTTP/1.1\r\nHost: sensr\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{")
        opened = time.monotonic()
        while not closed_by_server(sock) and time.monotonic() - opened < BODY_TIMEOUT + 30:
            try:
                sock.sendall(b" ")
            except OSError:
                break
            time.sleep(0.5)
        assert closed_by_server(sock), "the trickling body is still being read"
        assert time.monotonic() - opened >= BODY_TIMEOUT * 0.9


def test_an_address_over_its_connection_limit_is_refused(capped_api: ApiStack) -> None:
    with ExitStack() as stack:
        held = [stack.enter_context(connect(capped_api, "127.0.0.6")) for _ in range(CAP)]
        with connect(capped_api, "127.0.0.6") as extra:  # answered and closed at once
            extra.settimeout(30)
            answer = b""
            while chunk := extra.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), answer
        assert healthy(capped_api)  # another address
        assert not any(closed_by_server(sock) for sock in held)
        held.pop().close()

        def served_again() -> bool:
            with connect(capped_api, "127.0.0.6") as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: sensr\r\nConnection: close\r\n\r\n")
                sock.settimeout(30)
                return sock.recv(64).startswith(b"HTTP/1.1 200")

        eventually(served_again, timeout=30, what="a connection once one of the address's closed")
