"""The foundation's acceptance: the real Kafka, SeaweedFS and PostgreSQL work with the
clients Sensr pins, and `sensr infra up` / `down` leaves nothing behind."""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path

import psutil
import psycopg
import pytest
from minio import Minio

from sensr.broker import CAMERAS, FRAMES, make_consumer, make_producer
from sensr.frames import FrameEvent
from sensr.settings import CoreSettings, KafkaSettings
from tests.support.kafka_tap import FrameTap
from tests.support.harness import S3Endpoint, new_data_dir


def test_ten_mib_frame_round_trips_through_kafka(kafka_bootstrap: str, unique_name: str) -> None:
    frame = b"\xff\xd8" + secrets.token_bytes(10 * 1024 * 1024) + b"\xff\xd9"
    event = FrameEvent.new(unique_name, frame, "http", "127.0.0.1", filename="big.jpg")
    tap = FrameTap(kafka_bootstrap)
    producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=kafka_bootstrap))
    try:
        metadata = producer.send(FRAMES, key=event.key(), value=event.jpeg, headers=event.headers()).get(timeout=30)
        assert metadata.offset >= 0
    finally:
        producer.close()
    [received] = tap.collect(camera=unique_name, count=1)
    tap.close()
    assert received == event  # bytes, key and every header equal


def test_producer_is_durable_and_idempotent(kafka_bootstrap: str) -> None:
    producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=kafka_bootstrap))
    try:
        assert producer.config["acks"] == -1  # "all"
        assert producer.config["enable_idempotence"] is True
        assert producer.config["max_request_size"] > 16 * 1024 * 1024
    finally:
        producer.close()


def test_topics_exist_with_their_partitions(kafka_bootstrap: str) -> None:
    consumer = make_consumer(CoreSettings(), KafkaSettings(kafka_bootstrap=kafka_bootstrap), group_id=None)
    try:
        assert {FRAMES, CAMERAS, "sensr.catalog", "sensr.frames.dlq"} <= consumer.topics()
        assert len(consumer.partitions_for_topic(FRAMES)) == KafkaSettings().frames_partitions
    finally:
        consumer.close()


def test_object_round_trips_through_seaweedfs(s3_endpoint: S3Endpoint) -> None:
    client = Minio(s3_endpoint.endpoint, access_key=s3_endpoint.access_key, secret_key=s3_endpoint.secret_key,
                   secure=False)
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    client.make_bucket(bucket)
    body = secrets.token_bytes(300_000)
    client.put_object(bucket, "cam/2026/11/25/01/frame.jpg", io.BytesIO(body), len(body), content_type="image/jpeg")
    response = client.get_object(bucket, "cam/2026/11/25/01/frame.jpg")
    try:
        assert response.read() == body
        assert response.headers["Content-Type"] == "image/jpeg"
    finally:
        response.close()
        response.release_conn()


def test_wrong_s3_secret_is_refused(s3_endpoint: S3Endpoint) -> None:
    from minio.error import S3Error
    client = Minio(s3_endpoint.endpoint, access_key=s3_endpoint.access_key, secret_key="wrong-secret", secure=False)
    with pytest.raises(S3Error):
        client.bucket_exists("sensr")


def test_row_round_trips_through_postgres(postgres_url: str) -> None:
    table = f"t_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f"create table {table} (id text primary key, body bytea)")
        conn.execute(f"insert into {table} values (%s, %s)", ("a", b"\x00\xff"))
        assert conn.execute(f"select body from {table} where id = 'a'").fetchone() == (b"\x00\xff",)


def _processes_using(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(data_dir) in part for part in proc.info["cmdline"] or ()):
            found.append(proc)
    return found


@pytest.mark.slow
def test_infra_up_then_down_leaves_no_process() -> None:
    with ExitStack() as cleanup:
        _up_status_down(new_data_dir(cleanup, "stack") / "data")


def _up_status_down(data_dir: Path) -> None:
    env = dict(os.environ, SENSR_DATA_DIR=str(data_dir))
    from infra.process import free_ports
    kafka_port, s3_port, pg_port = free_ports(3)
    env.update(SENSR_KAFKA_BOOTSTRAP=f"127.0.0.1:{kafka_port}", SENSR_S3_ENDPOINT=f"127.0.0.1:{s3_port}",
               SENSR_DATABASE_URL=f"postgresql://sensr:sensr@127.0.0.1:{pg_port}/sensr")
    data_dir.mkdir()
    try:
        up = subprocess.run([sys.executable, "-m", "launcher", "infra", "up", "--postgres"], env=env,
                            capture_output=True, text=True, timeout=240)
        assert up.returncode == 0, up.stdout + up.stderr
        status = subprocess.run([sys.executable, "-m", "launcher", "infra", "status"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stdout + status.stderr
        for name in ("kafka", "seaweedfs", "postgres"):
            assert f"{name}: running" in status.stdout
        assert len(_processes_using(data_dir)) >= 3
    finally:
        down = subprocess.run([sys.executable, "-m", "launcher", "infra", "down"], env=env,
                              capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    assert _processes_using(data_dir) == []
    status = subprocess.run([sys.executable, "-m", "launcher", "infra", "status"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert "running" not in status.stdout.replace("not running", "")
