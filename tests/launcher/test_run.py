"""`sensr run`, the one command a new user meets first, run as a subprocess: it starts
Kafka, SeaweedFS and the four services on the ports it is given, says where each
listens, stops everything on Ctrl-C (SIGINT) leaving no process behind, and keeps its
data: a second start finds the camera and frames of the first. `sensr demo` and
`sensr run --demo` print upload commands that work as pasted."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from infra import stack as infra_stack
from infra.process import free_ports
from tests.support import harness
from launcher.service_stack import passive_port_range
from tests.support.harness import eventually
from tests.support.jpegs import make_jpeg
from workload.api_client import ApiClient

EMAIL = "first.user@example.com"
PASSWORD = "a demo password, long enough"
START_TIMEOUT = 180.0
REPO = Path(__file__).resolve().parents[2]


class SensrRun:
    """`python -m launcher run ...` (the `sensr` command) in its own session, output in a file."""

    def __init__(self, env: dict[str, str], output: Path, *args: str) -> None:
        self.output = output
        with output.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "launcher", "run", *args], cwd=REPO, env=env,
                                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        self.tree: list[psutil.Process] = []

    @property
    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_running(self) -> str:
        def running() -> bool:
            assert self.process.poll() is None, f"sensr run exited ({self.process.returncode}):\n{self.text}"
            return "Ctrl-C stops everything" in self.text
        eventually(running, START_TIMEOUT, 0.3, what=lambda: f"sensr run started:\n{self.text}")
        root = psutil.Process(self.process.pid)
        self.tree = [root, *root.children(recursive=True)]
        return self.text

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.tree]

    def alive(self) -> list[int]:
        """The pids of this run's processes still running (psutil checks a pid was not
        reused by another process since)."""
        found = []
        for proc in self.tree:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc.pid)
            except psutil.Error:
                pass
        return found

    def interrupt(self, timeout: float = 120.0) -> int:
        """Ctrl-C: SIGINT to `sensr run`, and its exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)

    def kill_leftovers(self) -> None:
        """After a failure: end what this run started, by pid."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                pass
        for proc in self.tree:
            try:
                proc.kill()  # refuses a pid that another process has taken since
            except psutil.Error:
                pass


def processes_using(data_dir: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if str(data_dir) in cmdline:
            found.append(f"{proc.info['pid']}: {cmdline[:200]}")
    return found


@pytest.fixture
def run_env(tmp_path: Path) -> Iterator[tuple[dict[str, str], dict[str, int], Path]]:
    if os.environ.get("SENSR_TEST_KAFKA_BOOTSTRAP") or harness.docker_available():
        pytest.skip("sensr run starts the native Kafka and SeaweedFS of infra/")
    data_dir = tmp_path / "data"
    names = ("kafka", "s3", "api", "http", "ftp", "ftp_ops", "catalog_ops")
    ports = dict(zip(names, free_ports(len(names))))
    env = {name: value for name, value in os.environ.items() if not name.startswith("SENSR_")}
    env.update({
        "PYTHONPATH": str(REPO),
        "SENSR_DATA_DIR": str(data_dir),
        "SENSR_KAFKA_BOOTSTRAP": f"127.0.0.1:{ports['kafka']}",
        "SENSR_S3_ENDPOINT": f"127.0.0.1:{ports['s3']}",
        "SENSR_API_PORT": str(ports["api"]),
        "SENSR_HTTP_PORT": str(ports["http"]),
        "SENSR_FTP_PORT": str(ports["ftp"]),
        "SENSR_FTP_OPS_PORT": str(ports["ftp_ops"]),
        "SENSR_CATALOG_OPS_PORT": str(ports["catalog_ops"]),
        "SENSR_FTP_PASSIVE_PORTS": passive_port_range(),
    })
    yield env, ports, data_dir
    if data_dir.exists():
        infra_stack.down(data_dir)  # in case a run died and left Kafka or SeaweedFS behind


def printed_command(text: str, program: str, scheme: str) -> list[str]:
    """The first printed `program ...` line whose URL starts with `scheme`, as argv."""
    for line in text.splitlines():
        words = shlex.split(line.strip()) if line.strip().startswith(program + " ") else []
        if words and any(word.startswith(scheme) for word in words):
            return words
    raise AssertionError(f"no {program} {scheme} command in:\n{text}")


def stopped_cleanly(run: SensrRun, data_dir: Path) -> None:
    assert run.interrupt() == 0, run.text
    assert run.text.rstrip().endswith("[sensr] stopped."), run.text
    eventually(lambda: not run.alive(), 30, 0.2, what=lambda: f"processes of sensr run still alive: {run.alive()}")
    assert processes_using(data_dir) == []


def test_run_demo_ctrl_c_and_restart_with_data_kept(run_env: tuple[dict[str, str], dict[str, int], Path],
                                                    tmp_path: Path) -> None:
    env, ports, data_dir = run_env
    first = SensrRun(env, tmp_path / "first.txt")
    try:
        text = first.wait_running()
        for where in (f"127.0.0.1:{ports['kafka']}", f"127.0.0.1:{ports['s3']}", f"http://127.0.0.1:{ports['api']}/",
                      f"http://127.0.0.1:{ports['http']}/photo/", f"ftp://127.0.0.1:{ports['ftp']}/"):
            assert where in text, f"{where} not shown:\n{text}"
        # Kafka, SeaweedFS and the four services: all children of this one command.
        assert len(first.pids) >= 7, first.pids

        demo = subprocess.run([sys.executable, "-m", "launcher", "demo", "--email", EMAIL, "--password", PASSWORD],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        username = re.search(r"USERNAME\s+(\S+)", demo.stdout).group(1)  # type: ignore[union-attr]
        curl_http = printed_command(demo.stdout, "curl", "http://")
        curl_ftp = printed_command(demo.stdout, "curl", "ftp://")
        photo = Path(curl_http[curl_http.index("-T") + 1])
        # Another photo over FTP: the same bytes again from this camera would be stored once.
        other = tmp_path / "other.jpg"
        other.write_bytes(make_jpeg(320, 240, seed=5))
        curl_ftp[curl_ftp.index("-T") + 1] = str(other)
        result = subprocess.run([*curl_http, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30"],
                                capture_output=True, text=True, timeout=60)
        assert result.stdout == "200", result.stdout + result.stderr
        result = subprocess.run([*curl_ftp, "-sS", "--max-time", "30"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr

        user = ApiClient(f"http://127.0.0.1:{ports['api']}", EMAIL, PASSWORD, sign_up=False)
        [camera] = user.cameras()
        assert camera.username == username
        frames = user.wait_for_frames(camera.id, 2)
        assert {frame["source"] for frame in frames} == {"http", "ftp"}
        assert sorted(user.image(frame) for frame in frames) == sorted([photo.read_bytes(), other.read_bytes()])
        stopped_cleanly(first, data_dir)
    finally:
        first.kill_leftovers()

    second = SensrRun(env, tmp_path / "second.txt", "--demo", "--email", EMAIL, "--password", PASSWORD)
    try:
        text = second.wait_running()
        assert f"USERNAME  {username}" in text, text  # the demo found its user and camera again
        user = ApiClient(f"http://127.0.0.1:{ports['api']}", EMAIL, PASSWORD, sign_up=False)
        assert [c.id for c in user.cameras()] == [camera.id]
        kept = user.frames(camera.id)
        assert [frame["id"] for frame in kept] == [frame["id"] for frame in frames]
        assert user.image(kept[0]) == photo.read_bytes()  # the bytes are still in the bucket
        # The printed commands work on the second start too.
        result = subprocess.run([*printed_command(text, "curl", "http://"), "-sS", "-o", "/dev/null",
                                 "-w", "%{http_code}", "--max-time", "30"], capture_output=True, text=True, timeout=60)
        assert result.stdout == "200", result.stdout + result.stderr
        stopped_cleanly(second, data_dir)
    finally:
        second.kill_leftovers()


def test_demo_without_a_running_stack_says_so(tmp_path: Path) -> None:
    port, = free_ports(1)
    env = {name: value for name, value in os.environ.items() if not name.startswith("SENSR_")}
    env.update(PYTHONPATH=str(REPO), SENSR_DATA_DIR=str(tmp_path / "data"), SENSR_API_PORT=str(port))
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "launcher", "demo"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "start Sensr first" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert time.monotonic() - started < 30
