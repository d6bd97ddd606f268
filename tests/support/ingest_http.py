"""ingest_http as a real subprocess, and the HTTP a camera speaks to it: curl, raw
request heads and responses, an MJPEG push, a chunk of a chunked body."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

from infra.process import ManagedProcess
from launcher.service_stack import ServiceStack
from workload.metrics import sample


@dataclass
class IngestHttp:
    """A running `python -m ingest_http`."""

    port: int
    process: ManagedProcess

    def url(self, path: str, login: tuple[str, str] | None = None) -> str:
        auth = f"{login[0]}:{login[1]}@" if login else ""
        return f"http://{auth}127.0.0.1:{self.port}{path}"

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the /metrics samples `name` with `labels` (0 when absent)."""
        return sample(urlopen(self.url("/metrics"), timeout=10).read().decode(), name, **labels)



def start_ingest_http(bootstrap: str, log_dir: Path, **settings: object) -> IngestHttp:
    """Start the service on a free port with `SENSR_<NAME>` = value for each setting; wait for /readyz."""
    stack = ServiceStack(bootstrap, log_dir, services=("ingest_http",),
                         overrides={"SENSR_LOG_FORMAT": "console",
                                    **{f"SENSR_{name.upper()}": str(value) for name, value in settings.items()}})
    stack.start(timeout=90)
    return IngestHttp(stack.http_port, stack.processes["ingest_http"])



def run(argv: list[str], cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=timeout)



def curl_status(argv: list[str]) -> tuple[int, str]:
    """Run curl (with `-s -w` added only to observe the answer) and return status and body."""
    done = run(["curl", "-s", "-w", "\n%{http_code}", *argv])
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body



def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()



def request_head(method: str, path: str, login: tuple[str, str] | None, extra: str = "",
                 version: str = "HTTP/1.1") -> bytes:
    auth = f"Authorization: {basic(*login)}\r\n" if login else ""
    return f"{method} {path} {version}\r\nHost: 127.0.0.1\r\n{auth}{extra}\r\n".encode()



def read_response(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """One response from a raw socket: status line, headers (lower-case names), body."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            raise ConnectionError(f"closed before a full response head: {data!r}")
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        more = sock.recv(65536)
        if not more:
            break
        body += more
    return status_line, headers, body



def push_stream(service: IngestHttp, login: tuple[str, str], body: bytes | Iterable[bytes]) -> tuple[int, dict]:
    connection = service.connection()
    try:
        headers = {"Authorization": basic(*login), "Content-Type": "multipart/x-mixed-replace;boundary=ffmpeg"}
        if isinstance(body, bytes):
            connection.request("POST", f"/upload/{login[0]}", body=body, headers=headers)
        else:
            connection.request("POST", f"/upload/{login[0]}", body=body, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()



def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)

