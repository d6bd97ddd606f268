"""The whole stack under faults, with cameras uploading all along. After each fault the
frames answered 200 (HTTP) or 226 (FTP) are exactly the frames stored and listed: none
lost, none twice, nothing that was not sent.

Each camera uploads unique frames, so every listed frame is matched to the upload that
sent it by its bytes (fetched back through the API); like a real camera it sends a frame
again (FTP: the same file) after an error or a broken connection, until it is taken.
"""

from __future__ import annotations

import os
import time
from urllib.request import urlopen
from contextlib import ExitStack

import pytest

from infra.kafka_server import KafkaServer
from infra.seaweedfs import SeaweedS3
from tests.support import harness
from launcher.service_stack import LOOPBACK_LOAD, S3Endpoint, ServiceStack
from tests.support.stack import all_alive, check_exactly_once, new_camera, start_loops, stop_loops, wait_acked
from tests.support.harness import eventually
from workload.metrics import sample


def catalog_metric(stack: ServiceStack, name: str, **labels: str) -> float:
    with urlopen(f"{stack.ops_url('catalog_worker')}/metrics", timeout=10) as response:
        return sample(response.read().decode(), name, **labels)


def test_catalog_worker_killed_and_restarted_during_uploads(stack: ServiceStack) -> None:
    user, camera = new_camera(stack)
    loops = start_loops(camera, "catalog", "photo", "ftp", "mjpeg", pause=0.03)
    try:
        wait_acked(loops, 8)
        stack.kill_service("catalog_worker")  # SIGKILL: no commit, no goodbye to the group
        killed = time.monotonic()
        wait_acked(loops, 4, since=killed)  # the edges take frames while no worker runs
        stack.start_service("catalog_worker")
        wait_acked(loops, 8, since=time.monotonic())
    finally:
        stop_loops(loops)
    tally = check_exactly_once(user, camera, loops)
    assert tally.listed == tally.acked, tally
    assert all(loop.failed_count() == 0 for loop in loops), [loop.outcomes() for loop in loops]
    all_alive(stack)


@pytest.mark.parametrize(("edge", "path"), [("ingest_http", "photo"), ("ingest_ftp", "ftp")])
def test_ingest_edge_restarted_while_cameras_keep_uploading(stack: ServiceStack, edge: str, path: str) -> None:
    user, camera = new_camera(stack)
    loops = start_loops(camera, f"edge-{path}", path, path, pause=0.02, retry_pause=0.1)
    try:
        wait_acked(loops, 10)
        stack.stop_service(edge)  # SIGTERM: answers the uploads under way, then goes
        stopped = time.monotonic()
        stack.start_service(edge)  # same port; the loops reconnect by themselves
        wait_acked(loops, 10, since=time.monotonic())
    finally:
        stop_loops(loops)
    assert any(loop.failed_count(stopped) for loop in loops), "the restart went unnoticed"
    tally = check_exactly_once(user, camera, loops)
    assert tally.listed == tally.acked, tally
    all_alive(stack)


# -- faults of the infrastructure: private Kafka / SeaweedFS --------------------------------------

def native_only(what: str) -> None:
    if os.environ.get("SENSR_TEST_KAFKA_BOOTSTRAP") or os.environ.get("SENSR_TEST_S3_ENDPOINT") \
            or harness.docker_available():
        pytest.skip(f"stopping {what} needs the native infrastructure of infra/")


def test_kafka_stopped_and_restarted_during_uploads(private_kafka: KafkaServer, s3_endpoint: S3Endpoint,
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    native_only("Kafka")
    with ServiceStack(private_kafka.bootstrap, tmp_path_factory.mktemp("kafka-fault") / "data", s3_endpoint,
                      overrides={**LOOPBACK_LOAD, "SENSR_KAFKA_REQUEST_TIMEOUT_MS": "4000"}) as stack:
        user, camera = new_camera(stack)
        loops = start_loops(camera, "kafka", "photo", "ftp", pause=0.05)
        try:
            wait_acked(loops, 10)
            private_kafka.stop()
            stopped = time.monotonic()
            # While the broker is away the edges refuse (503 / 451), each within the ack timeout.
            eventually(lambda: all(loop.failed_count(stopped) >= 2 for loop in loops), 60,
                       what="uploads refused while Kafka is down")
            private_kafka.start()
            wait_acked(loops, 10, since=time.monotonic(), timeout=120)
        finally:
            stop_loops(loops)
        outcomes = [loop.outcomes() for loop in loops]
        assert {"200"} < set(outcomes[0]) <= {"200", "503"}, outcomes
        assert {"226"} < set(outcomes[1]) and all(code[0] in "24" for code in outcomes[1]), outcomes
        tally = check_exactly_once(user, camera, loops, timeout=120)
        # The cameras sent each refused frame again until it was taken, and none is stored
        # twice: ingest_http's producer gives a record up before the edge answers 503 (see
        # sensr.broker.producer_timeouts), and ingest_ftp answers the re-upload of a file
        # that reached Kafka after its 451 with 226 without publishing it again.
        assert tally.listed == tally.acked and not tally.refused_but_stored, tally
        all_alive(stack)


def test_seaweedfs_stopped_and_restarted_during_uploads(kafka_bootstrap: str,
                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    native_only("SeaweedFS")
    with ExitStack() as cleanup:
        seaweed = SeaweedS3(harness.new_data_dir(cleanup, "e2e-s3"))
        seaweed.start()
        cleanup.callback(seaweed.stop)
        s3 = S3Endpoint(seaweed.endpoint, seaweed.access_key, seaweed.secret_key)
        stack = ServiceStack(kafka_bootstrap, tmp_path_factory.mktemp("s3-fault") / "data", s3,
                             overrides=LOOPBACK_LOAD).start()
        cleanup.callback(stack.stop)
        user, camera = new_camera(stack)
        loops = start_loops(camera, "s3", "photo", "ftp", pause=0.05)
        try:
            wait_acked(loops, 10)
            seaweed.stop()
            stopped = time.monotonic()
            # the worker's batch under way fails on the store: every batch before it is indexed
            eventually(lambda: catalog_metric(stack, "sensr_catalog_retries_total", dependency="storage") >= 1,
                       what="the catalog worker meeting the outage")
            listed_while_down = user.frame_count(camera.id)
            wait_acked(loops, 20, since=stopped)  # the edges do not need the object store
            assert user.frame_count(camera.id) == listed_while_down  # nothing is listed without its image
            seaweed.start()
            wait_acked(loops, 10, since=time.monotonic())
        finally:
            stop_loops(loops)
        assert all(loop.failed_count() == 0 for loop in loops), [loop.outcomes() for loop in loops]
        tally = check_exactly_once(user, camera, loops)
        assert tally.listed == tally.acked, tally
        all_alive(stack)
