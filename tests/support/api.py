"""Support for the api's tests (no tests here): the api, and where a test needs them the
real ingest_http and catalog_worker, as child processes (`python -m ...`) on free ports,
against the session's Kafka and SeaweedFS, with SQLite or PostgreSQL; and a small client.

The fixtures (`database_url`, `api_stack`, `edge_stack`) are in tests/api/conftest.py.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests
from kafka import TopicPartition
from minio.error import S3Error
from sqlalchemy.engine import make_url

from infra.process import ManagedProcess
from launcher.service_stack import S3Endpoint, ServiceStack, start_group_at_end
from launcher.services import ROOT, launch, service
from sensr.broker import CAMERAS, CLIP_JOBS, CLIP_PROGRESS, make_consumer
from sensr.cameras import CameraLogin
from sensr.frames import new_frame_id
from sensr.index import FrameIndex, FrameRecord
from sensr.settings import CoreSettings, KafkaSettings, S3Settings
from sensr.storage import ensure_bucket, make_s3_client, object_keys
from tests.support.jpegs import make_jpeg

PASSWORD = "a long enough password"
EDGE_STACK = ("api", "catalog_worker", "ingest_http")
"""The services of the api tests' fullest stack, in start order."""


@dataclass
class ApiStack:
    """The running services of one test module, and how to reach them."""

    url: str
    env: dict[str, str]
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def api(self, path: str) -> str:
        return f"{self.url}/api/v1{path}"

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.env['SENSR_HTTP_PORT']}"

    def stop(self) -> None:
        for process in reversed(self.processes.values()):
            process.stop()


@dataclass
class Account:
    """A signed-up, logged-in user and a session that sends its bearer token."""

    email: str
    token: str
    session: requests.Session


def sign_up(stack: ApiStack, email: str | None = None) -> Account:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    created = requests.post(stack.api("/users"), json={"email": email, "password": PASSWORD}, timeout=30)
    assert created.status_code == 201, created.text
    login = requests.post(stack.api("/tokens"), json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 201, login.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {login.json()['token']}"
    return Account(email=created.json()["email"], token=login.json()["token"], session=session)


def create_camera(stack: ApiStack, account: Account, **fields: Any) -> dict[str, Any]:
    response = account.session.post(stack.api("/cameras"), json={"name": "Front door", **fields}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def new_postgres_database(server_url: str) -> tuple[str, str]:
    """A fresh database on the test session's PostgreSQL: (its URL, its name)."""
    name = f"api_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_service(stack: ApiStack, module: str, log_dir: Path) -> None:
    """Start `module` with the stack's settings; return once its /readyz answers."""
    stack.processes[module] = launch(service(module), stack.env, log_dir / f"{module}.log", cwd=ROOT, timeout=60)


def stack_env(kafka_bootstrap: str, s3: S3Endpoint, database_url: str, data_dir: Path,
              **overrides: str) -> dict[str, str]:
    """SENSR_ variables for one stack: its own bucket, ports, consumer group and database."""
    stack = ServiceStack(kafka_bootstrap, data_dir, s3,
                         overrides={"SENSR_DATABASE_URL": database_url, "SENSR_LOG_FORMAT": "console", **overrides})
    return stack.env


def start_stack(env: dict[str, str], log_dir: Path, *, edges: bool = False, clips: bool = False) -> ApiStack:
    """The api (and with `edges`, ingest_http and catalog_worker; with `clips`, a
    clip_worker), ready to serve. The bucket is made first, as `sensr run` does, and the
    stack's consumer groups start at the ends of their topics, as `ServiceStack.start`
    does (earlier tests' frames, jobs and reports are not this stack's)."""
    ensure_bucket(make_s3_client(S3Settings(s3_endpoint=env["SENSR_S3_ENDPOINT"],
                                            s3_access_key=env["SENSR_S3_ACCESS_KEY"],
                                            s3_secret_key=env["SENSR_S3_SECRET_KEY"])), env["SENSR_S3_BUCKET"])
    stack = ApiStack(url=f"http://127.0.0.1:{env['SENSR_API_PORT']}", env=env)
    if edges:  # frames earlier tests left in the shared topic are not this stack's work
        start_group_at_end(env["SENSR_KAFKA_BOOTSTRAP"], env["SENSR_CATALOG_GROUP_ID"])
    start_group_at_end(env["SENSR_KAFKA_BOOTSTRAP"], env["SENSR_CLIP_PROGRESS_GROUP_ID"], CLIP_PROGRESS)
    start_group_at_end(env["SENSR_KAFKA_BOOTSTRAP"], env["SENSR_CLIP_GROUP_ID"], CLIP_JOBS)
    try:
        for module in (*(EDGE_STACK if edges else ("api",)), *(("clip_worker",) if clips else ())):
            start_service(stack, module, log_dir)
    except BaseException:
        stack.stop()
        raise
    return stack


def camera_record(bootstrap: str, username: str) -> CameraLogin | None:
    """The latest record of `username` on `sensr.cameras` (None for a tombstone); fails
    the test if there is none at all."""
    consumer = make_consumer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap), group_id=None)
    try:
        partitions = [TopicPartition(CAMERAS, p) for p in consumer.partitions_for_topic(CAMERAS) or {0}]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found: list[bytes | None] = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=500).values():
                found += [record.value for record in records if record.key == username.encode()]
    finally:
        consumer.close()
    assert found, f"no record of {username} on {CAMERAS}"
    return None if found[-1] is None else CameraLogin.from_value(found[-1])


def seed_frames(stack: ApiStack, username: str, timestamps_us: list[int],
                size: tuple[int, int] = (64, 48),
                camera_offset_us: int | None = None) -> list[tuple[FrameRecord, bytes]]:
    """Store frames of `username` as the catalog worker does (objects in the bucket, rows in
    the index), without going through Kafka: for tests that need many frames at chosen
    times. With `camera_offset_us`, each frame carries a camera clock that far from its
    Sensr time. Returns each record with its JPEG bytes."""
    s3 = make_s3_client(S3Settings(s3_endpoint=stack.env["SENSR_S3_ENDPOINT"],
                                   s3_access_key=stack.env["SENSR_S3_ACCESS_KEY"],
                                   s3_secret_key=stack.env["SENSR_S3_SECRET_KEY"]))
    bucket = stack.env["SENSR_S3_BUCKET"]
    seeded = []
    for n, timestamp_us in enumerate(timestamps_us):
        jpeg, thumbnail = make_jpeg(*size, seed=n), make_jpeg(32, 24, content="gradient", seed=n)
        frame_id = new_frame_id(timestamp_us)
        image_key, thumbnail_key = object_keys(username, timestamp_us, frame_id)
        for key, data in ((image_key, jpeg), (thumbnail_key, thumbnail)):
            s3.put_object(bucket, key, io.BytesIO(data), len(data), content_type="image/jpeg")
        seeded.append((FrameRecord(frame_id=frame_id, camera=username, timestamp_us=timestamp_us, size=len(jpeg),
                                   width=size[0], height=size[1], source="http", object_key=image_key,
                                   thumbnail_key=thumbnail_key, filename=f"seed{n}.jpg",
                                   camera_time_us=None if camera_offset_us is None else timestamp_us + camera_offset_us),
                       jpeg))
    index = FrameIndex.open(stack.env["SENSR_DATABASE_URL"])
    try:
        index.add([record for record, _ in seeded])
    finally:
        index.close()
    return seeded


def object_stored(stack: ApiStack, key: str) -> bool:
    """Whether the stack's bucket holds `key`."""
    s3 = make_s3_client(S3Settings(s3_endpoint=stack.env["SENSR_S3_ENDPOINT"],
                                   s3_access_key=stack.env["SENSR_S3_ACCESS_KEY"],
                                   s3_secret_key=stack.env["SENSR_S3_SECRET_KEY"]))
    try:
        s3.stat_object(stack.env["SENSR_S3_BUCKET"], key)
    except S3Error as error:
        assert error.code == "NoSuchKey", error
        return False
    return True
