"""examples/follow_camera.py, the documented stream subscriber, run as a real process by
the tests (its output in files beside the folder it saves frames to)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workload.waiting import eventually

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "follow_camera.py"


class Follower:
    """The example running as a subprocess, its output in files."""

    def __init__(self, bootstrap: str, camera: str, folder: Path, *args: str) -> None:
        self.folder = folder
        self.stdout_path, self.stderr_path = folder.parent / "stdout.txt", folder.parent / "stderr.txt"
        with self.stdout_path.open("w") as out, self.stderr_path.open("w") as err:
            self.process = subprocess.Popen([sys.executable, str(EXAMPLE), bootstrap, camera, str(folder), *args],
                                            stdout=out, stderr=err, cwd=folder.parent)

    def wait_following(self, timeout: float = 60.0) -> None:
        """Until it has fixed its start offset (frames published after this are its to see)."""
        def following() -> bool:
            assert self.process.poll() is None, f"example exited early:\n{self.stderr}"
            return "following " in self.stderr

        eventually(following, timeout, 0.05, what=lambda: f"example did not start:\n{self.stderr}")

    def finish(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"example did not finish; stderr:\n{self.stderr}\nstdout:\n{self.stdout}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def saved(self) -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in sorted(self.folder.iterdir())}
