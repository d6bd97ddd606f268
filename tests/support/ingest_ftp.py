"""ingest_ftp as a real subprocess, its cameras, and the FTP a camera speaks to it."""

from __future__ import annotations

import ftplib
import socket
import ssl
import urllib.request
import uuid
from dataclasses import dataclass, field

from infra.process import ManagedProcess
from sensr.cameras import CameraLogin, publish_login
from sensr.frames import FrameEvent
from tests.support.jpegs import make_jpeg
from workload.metrics import sample
from tests.support.kafka_tap import FrameTap, producer_for

QUIET = 1.0  # every publish is acknowledged before its reply, so a second copy would already be there


@dataclass(frozen=True)
class Camera:
    username: str
    password: str


@dataclass
class FtpService:
    """A running `python -m ingest_ftp` with the cameras registered before it started."""

    process: ManagedProcess
    port: int
    ops_port: int
    cameras: list[Camera] = field(default_factory=list)
    disabled: list[Camera] = field(default_factory=list)

    def camera(self) -> Camera:
        return self.cameras.pop()

    def connect(self, tls: bool = False) -> ftplib.FTP:
        ftp = ftplib.FTP_TLS(context=_client_tls()) if tls else ftplib.FTP()
        ftp.connect("127.0.0.1", self.port, timeout=20)
        return ftp

    def login(self, camera: Camera) -> ftplib.FTP:
        ftp = self.connect()
        ftp.login(camera.username, camera.password)
        return ftp

    def log(self) -> str:
        return self.process.log_path.read_text(errors="replace")

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ops_port}/metrics", timeout=5) as response:
            return response.read().decode()

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the /metrics samples `name` with `labels` (0 when absent)."""
        return sample(self.metrics(), name, **labels)


def register_cameras(bootstrap: str, count: int, **extra: object) -> list[Camera]:
    cameras = [Camera(f"ftp{uuid.uuid4().hex[:10]}", f"pw-{uuid.uuid4().hex}") for _ in range(count)]
    producer = producer_for(bootstrap)
    try:
        for cam in cameras:
            publish_login(producer, CameraLogin.create(cam.username, camera_id=f"id-{cam.username}",
                                                       owner_id="owner-test", password=cam.password,
                                                       **extra))  # type: ignore[arg-type]
    finally:
        producer.close()
    return cameras



def frame(seed: int) -> bytes:
    return make_jpeg(96, 64, seed=seed)


def raw(ftp: ftplib.FTP, line: str) -> str:
    """Send one command and return the reply, whatever its code (as firmware reads it)."""
    ftp.putcmd(line)
    return ftp.getmultiline()


def passive(ftp: ftplib.FTP) -> tuple[str, int]:
    return ftp.makepasv()


def store(ftp: ftplib.FTP, name: str, data: bytes) -> str:
    """STOR over a passive connection opened after the 150; returns the final reply."""
    host, port = passive(ftp)
    preliminary = raw(ftp, f"STOR {name}")
    assert preliminary.startswith("150"), preliminary
    with socket.create_connection((host, port), timeout=10) as data_sock:
        data_sock.sendall(data)
    return ftp.getmultiline()


def exactly(tap: FrameTap, camera: Camera, count: int) -> list[FrameEvent]:
    """The `count` frames the test caused for `camera`, and no further copy."""
    events = tap.collect(camera.username, count, timeout=30)
    assert len(events) == count, [e.filename for e in events]
    assert tap.quiet(camera.username, QUIET) == []
    return events


def _client_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context

