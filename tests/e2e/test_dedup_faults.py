"""A camera's retry is stored once (issue 17, finding 12): the whole stack, cameras
uploading on every path, while Kafka is frozen, Kafka is killed and restarted, or an edge
is killed and restarted. Each camera sends a refused frame again until it is taken, and
the frames acknowledged are exactly the frames listed: none lost, none twice.

How the second copy comes about, and why only the catalog worker can drop it:
- frozen broker (SIGSTOP longer than SENSR_KAFKA_REQUEST_TIMEOUT_MS, then SIGCONT): the
  edge gives the record up and answers 503 / 451, the camera sends the frame again; the
  broker, resumed, writes the record it had already received as well;
- killed edge: Kafka acknowledged a frame but the process died before its 200 / 226, so
  the camera sends the same file again, to a new process that remembers nothing.
The killed-edge tests make that second case certain: after the restart the camera sends
its last acknowledged file again, the same name and bytes, as if it had never seen the
answer.

The Kafka tests need a broker of their own: run with `env -u SENSR_TEST_KAFKA_BOOTSTRAP`.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from infra.kafka_server import KafkaServer
from launcher.service_stack import LOOPBACK_LOAD, S3Endpoint, ServiceStack
from tests.support.stack import (
    Attempt,
    Tally,
    UploadLoop,
    all_alive,
    check_exactly_once,
    digest,
    ftp_store,
    new_camera,
    put_photo,
    start_loops,
    stop_loops,
    unique_jpeg,
    wait_acked,
)
from tests.support.harness import eventually
from workload.api_client import CameraLogin

REQUEST_TIMEOUT_MS = 3000
PATHS = ("photo", "ftp", "mjpeg")


@pytest.fixture
def kafka_stack(private_kafka: KafkaServer, s3_endpoint: S3Endpoint,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    """A stack on a broker of this test's own, with a short produce timeout."""
    with ServiceStack(private_kafka.bootstrap, tmp_path_factory.mktemp("dedup-kafka") / "data", s3_endpoint,
                      overrides={**LOOPBACK_LOAD,
                                 "SENSR_KAFKA_REQUEST_TIMEOUT_MS": str(REQUEST_TIMEOUT_MS)}) as running:
        yield running


def only_broken_streams_extra(tally: Tally) -> None:
    """`check_exactly_once` found no frame twice, none lost, none never sent; besides the
    acknowledged frames, only frames of MJPEG streams that broke may be listed (a stream
    has no answer per frame, and the loop sends new frames after a broken stream)."""
    assert all(path == "mjpeg" for path, _ in tally.refused_but_stored), tally


def duplicates_dropped(stack: ServiceStack) -> float:
    """The catalog worker's count of copies it did not store again."""
    text = requests.get(f"{stack.ops_url('catalog_worker')}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("sensr_catalog_duplicates_dropped_total"))


def refused_since(loops: list[UploadLoop], since: float, count: int) -> bool:
    """Every photo and FTP loop had `count` uploads refused since `since` (an MJPEG loop
    fails once per stream, and then only if a frame of it was refused)."""
    return all(loop.failed_count(since) >= count for loop in loops if loop.path != "mjpeg")


def test_frozen_broker(kafka_stack: ServiceStack, private_kafka: KafkaServer) -> None:
    user, camera = new_camera(kafka_stack)
    loops = start_loops(camera, "frozen", *PATHS, pause=0.05, retry_pause=0.2)
    assert private_kafka.process is not None and private_kafka.process.pid is not None
    broker = private_kafka.process.pid
    try:
        wait_acked(loops, 8)
        os.kill(broker, signal.SIGSTOP)
        frozen = time.monotonic()
        try:
            # Each photo and FTP upload is refused once the produce timeout passes; twice
            # means the broker stayed frozen for longer than that, with retries under way.
            eventually(lambda: refused_since(loops, frozen, 2), 60, 0.1, what="uploads refused while Kafka is frozen")
            assert time.monotonic() - frozen > REQUEST_TIMEOUT_MS / 1000
        finally:
            os.kill(broker, signal.SIGCONT)
        wait_acked(loops, 8, since=time.monotonic(), timeout=120)
    finally:
        stop_loops(loops)
    only_broken_streams_extra(check_exactly_once(user, camera, loops, timeout=120))
    all_alive(kafka_stack)


def test_restarted_broker(kafka_stack: ServiceStack, private_kafka: KafkaServer) -> None:
    user, camera = new_camera(kafka_stack)
    loops = start_loops(camera, "restarted", *PATHS, pause=0.05, retry_pause=0.2)
    try:
        wait_acked(loops, 8)
        private_kafka.kill()  # SIGKILL: what it received and acknowledged is in the page cache
        killed = time.monotonic()
        eventually(lambda: refused_since(loops, killed, 2), 60, 0.1, what="uploads refused while Kafka is down")
        private_kafka.start()
        wait_acked(loops, 8, since=time.monotonic(), timeout=120)
    finally:
        stop_loops(loops)
    only_broken_streams_extra(check_exactly_once(user, camera, loops, timeout=120))
    all_alive(kafka_stack)


@dataclass
class Resender:
    """A camera that sends one file again and again (what `check_exactly_once` reads of an
    uploader: its path and its attempts)."""

    camera: CameraLogin
    path: str
    name: str
    jpeg: bytes
    attempts: list[Attempt] = field(default_factory=list)

    def send(self) -> str:
        """One upload of the file (FTP: under its name); the status or reply code."""
        if self.path == "ftp":
            outcome = ftp_store(self.camera, self.name, self.jpeg)[:3]
        else:
            with requests.Session() as session:
                outcome = str(put_photo(session, self.camera, self.jpeg))
        self.attempts.append(Attempt([digest(self.jpeg)], outcome, outcome in ("200", "226"), time.monotonic()))
        return outcome


@pytest.mark.parametrize(("edge", "path"), [("ingest_ftp", "ftp"), ("ingest_http", "photo")])
def test_killed_edge(stack: ServiceStack, edge: str, path: str) -> None:
    user, camera = new_camera(stack)
    loops = start_loops(camera, f"killed-{path}", path, "mjpeg" if path == "photo" else path,
                        pause=0.02, retry_pause=0.1)
    resender = Resender(camera, path, "last.jpg", unique_jpeg(f"killed-{path}-last", 0))
    dropped_before = duplicates_dropped(stack)
    try:
        wait_acked(loops, 10)
        assert resender.send() in ("200", "226")
        stack.kill_service(edge)  # SIGKILL: answers nothing, forgets everything
        killed = time.monotonic()
        stack.start_service(edge)  # same port; the loops reconnect by themselves
        # The camera never saw the answer to its last upload: it sends the same file again.
        assert resender.send() in ("200", "226")
        wait_acked(loops, 10, since=time.monotonic())
    finally:
        stop_loops(loops)
    assert any(loop.failed_count(killed) for loop in loops), "the kill went unnoticed"
    only_broken_streams_extra(check_exactly_once(user, camera, [*loops, resender]))  # type: ignore[list-item]
    assert duplicates_dropped(stack) > dropped_before  # the second copy reached Kafka and was dropped
    all_alive(stack)
