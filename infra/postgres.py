"""A throwaway PostgreSQL cluster from Debian's package: initdb into a folder of our own,
a free port on 127.0.0.1, and a socket folder of its own. As root, the server runs as the
`postgres` system user (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.process import ManagedProcess, ServiceStartError, free_port, port_open, run_checked

DB_USER = "sensr"
DB_NAME = "sensr"
DB_PASSWORD = "sensr"


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server program: Debian keeps them in /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return found[0] if found else shutil.which(name)


def postgres_installed() -> bool:
    return pg_bin("initdb") is not None and pg_bin("postgres") is not None


def _run_as() -> str | None:
    return "postgres" if os.geteuid() == 0 else None


@dataclass
class PostgresCluster:
    data_dir: Path
    port: int = 0
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{self.port}/{DB_NAME}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "postgres.log"

    def _own(self, *paths: Path) -> None:
        if _run_as():
            for path in paths:
                shutil.chown(path, user="postgres", group="postgres")

    def _check_reachable_by_server_user(self) -> None:
        user = _run_as()
        if user and subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(self.data_dir)]).returncode != 0:
            raise ServiceStartError(f"PostgreSQL runs as the `{user}` user, which cannot enter {self.data_dir}: "
                                    "choose a data folder whose parents are world-searchable (chmod o+x)")

    def _initdb(self) -> None:
        cluster = self.data_dir / "cluster"
        if (cluster / "PG_VERSION").exists():
            return
        cluster.mkdir(parents=True, exist_ok=True)
        self._own(self.data_dir, cluster)
        pwfile = self.data_dir / "pwfile"
        pwfile.write_text(DB_PASSWORD + "\n")
        self._own(pwfile)
        argv = [pg_bin("initdb") or "initdb", "-D", str(cluster), "-U", DB_USER, f"--pwfile={pwfile}",
                "-A", "scram-sha-256", "-E", "UTF8", "--no-sync"]
        if _run_as():
            argv = ["runuser", "-u", "postgres", "--", *argv]
        run_checked(argv, "PostgreSQL initdb")
        pwfile.unlink()

    def start(self, timeout: float = 60.0) -> None:
        if not postgres_installed():
            raise ServiceStartError("PostgreSQL server programs not found: run `python -m infra install` first")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o755)
        self._check_reachable_by_server_user()
        self._initdb()
        if not self.port:
            self.port = free_port()
        sockets = self.data_dir / "sockets"
        sockets.mkdir(exist_ok=True)
        self._own(sockets)
        argv = [pg_bin("postgres") or "postgres", "-D", str(self.data_dir / "cluster"), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sockets}",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200"]
        self.process = ManagedProcess("PostgreSQL", argv, self.log_path, user=_run_as())
        if _run_as():
            self.log_path.touch()
            self._own(self.log_path)
        self.process.start()
        self.process.wait_ready(lambda: port_open("127.0.0.1", self.port) and self._accepts_logins(), timeout)
        self._create_database()

    def _accepts_logins(self) -> bool:
        psql = shutil.which("psql")
        if not psql:
            return True
        env = dict(os.environ, PGPASSWORD=DB_PASSWORD)
        done = subprocess.run([psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, "-d", "postgres",
                               "-tAc", "select 1"], capture_output=True, text=True, env=env)
        return done.returncode == 0

    def _create_database(self) -> None:
        psql = shutil.which("psql")
        if not psql:
            raise ServiceStartError("psql not found (Debian package postgresql-client)")
        env = dict(os.environ, PGPASSWORD=DB_PASSWORD)
        base = [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, "-d", "postgres", "-tAc"]
        exists = run_checked([*base, f"select 1 from pg_database where datname='{DB_NAME}'"], "psql", env=env)
        if exists.stdout.strip() != "1":
            run_checked([*base, f"create database {DB_NAME}"], "creating the sensr database", env=env)

    def stop(self) -> None:
        if self.process:
            self.process.stop()
