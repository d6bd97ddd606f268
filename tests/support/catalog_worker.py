"""The catalog worker as a real subprocess, and what its tests feed it and read back:
frames on sensr.frames, the tail of a topic, the objects and index rows it wrote."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka.consumer.fetcher import ConsumerRecord
from minio import Minio

from infra.process import free_port
from launcher.service_stack import start_group_at_end
from sensr.broker import FRAMES
from sensr.frame_reader import FrameReader
from sensr.frames import FrameEvent, Headers, new_frame_id
from sensr.index import FrameIndex, FrameRecord
from sensr.settings import S3Settings
from sensr.storage import make_s3_client
from tests.support.jpegs import make_jpeg
from workload.metrics import sample
from tests.support.kafka_tap import consumer_at_end, producer_for
from workload.waiting import eventually

SEGMENT_AGE_S = 2
"""The catalog tests' segment age: segments seal within seconds, so a test sees frames in
the store, not only in Kafka."""


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    ops_port: int
    log_path: Path

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ops_port}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the /metrics samples `name` with `labels` (0 when absent or the
        worker is not serving)."""
        try:
            _, text = self.get("/metrics")
        except OSError:
            return 0.0
        return sample(text, name, **labels)

    def log_events(self, event: str) -> list[dict]:
        found = []
        for line in self.log_path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == event:
                found.append(entry)
        return found

    def terminate(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


@contextmanager
def worker_processes(module: str, ops_port_setting: str, log_dir: Path, defaults: dict[str, str],
                     command: Sequence[str] = ()) -> Iterator[Callable[..., Worker]]:
    """A starter of `python -m <module>` worker processes (catalog or activity worker),
    each with its own ops port and JSON log in `log_dir`, `defaults` under the test's
    environment and overrides; whatever still runs when the block ends is killed."""
    started: list[Worker] = []

    def start(env: dict[str, str], **overrides: str) -> Worker:
        port = free_port()
        log_path = log_dir / f"{module}-{len(started)}.log"
        full_env = {**os.environ, **env, ops_port_setting: str(port), "SENSR_LOG_FORMAT": "json", **defaults,
                    **overrides}
        with log_path.open("wb") as log:
            process = subprocess.Popen([*command, sys.executable, "-m", module], env=full_env,
                                       stdout=subprocess.DEVNULL, stderr=log)
        worker = Worker(process, port, log_path)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.kill()


def worker_fixture(module: str, ops_port_setting: str, defaults: dict[str, str],
                   command: Sequence[str] = ()) -> Callable[..., Iterator[Callable[..., Worker]]]:
    """A pytest fixture giving a test a starter of `worker_processes` (see there)."""
    @pytest.fixture
    def start_workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
        with worker_processes(module, ops_port_setting, tmp_path, defaults, command) as start:
            yield start
    return start_workers


def group_env_fixture(prefix: str, group_setting: str) -> Callable[..., dict[str, str]]:
    """A pytest fixture: `stack_env` plus a consumer group of the test's own (named
    `prefix-<unique name>`, set in `group_setting`), started at the end of `sensr.frames`."""
    @pytest.fixture
    def group_env(stack_env: dict[str, str], unique_name: str, kafka_bootstrap: str) -> dict[str, str]:
        group = f"{prefix}-{unique_name}"
        start_group_at_end(kafka_bootstrap, group)
        return dict(stack_env, **{group_setting: group})
    return group_env


def frames_for(camera: str, count: int, start_seed: int = 0, timestamp_us: int | None = None) -> list[FrameEvent]:
    events = []
    for n in range(count):
        # Unique bytes per camera and number: identical bytes within SENSR_REUPLOAD_WINDOW are one frame.
        jpeg = make_jpeg(160, 120, seed=(start_seed + n) % 64, comment=f"{camera} {start_seed + n}".encode())
        if timestamp_us is None:
            events.append(FrameEvent.new(camera, jpeg, "http", client="127.0.0.1", filename=f"f{n}.jpg"))
        else:
            ts = timestamp_us + n
            events.append(FrameEvent(camera, jpeg, new_frame_id(ts), ts, "ftp"))
    return events


def produce(bootstrap: str, events: list[FrameEvent],
            raw: Sequence[tuple[bytes | None, bytes | None, Headers]] = ()) -> None:
    producer = producer_for(bootstrap)
    try:
        for event in events:
            producer.send(FRAMES, key=event.key(), value=event.jpeg, headers=event.headers())
        for key, value, headers in raw:
            producer.send(FRAMES, key=key, value=value, headers=headers)
        producer.flush(30)
    finally:
        producer.close()


class Tail:
    """Raw records of a topic from its end offsets at creation, filtered by key."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = consumer_at_end(bootstrap, topic)
        self.records: list[ConsumerRecord] = []

    def collect(self, keys: set[bytes], count: int, timeout: float = 60) -> list[ConsumerRecord]:
        deadline = time.monotonic() + timeout
        while len(self.records) < count and time.monotonic() < deadline:
            for batch in self.consumer.poll(timeout_ms=200).values():
                self.records.extend(r for r in batch if r.key in keys)
        return self.records

    def close(self) -> None:
        self.consumer.close()


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 90) -> None:
    """Until `condition()` holds (the catalog tests' generous default bound)."""
    eventually(condition, timeout, 0.25, what=what)


def s3_client(env: dict[str, str]) -> Minio:
    return make_s3_client(S3Settings(s3_endpoint=env["SENSR_S3_ENDPOINT"], s3_access_key=env["SENSR_S3_ACCESS_KEY"],
                                     s3_secret_key=env["SENSR_S3_SECRET_KEY"]))


def object_names(client: Minio, bucket: str, camera: str) -> list[str]:
    return [o.object_name for o in client.list_objects(bucket, prefix=f"{camera}/", recursive=True)]


def all_rows(index: FrameIndex, camera: str) -> list[FrameRecord]:
    rows, cursor = [], None
    while True:
        page = index.page(camera, limit=1000, cursor=cursor)
        rows.extend(page.frames)
        if (cursor := page.next_cursor) is None:
            return rows


def stored_keys(rows: Sequence[FrameRecord]) -> set[str]:
    """The objects `rows` point at: their segments, or for frames stored before segments
    their original and thumbnail (none for a frame not sealed yet)."""
    keys: set[str] = set()
    for row in rows:
        if row.segment_key is not None:
            keys.add(row.segment_key)
        elif row.kafka_partition is None:
            keys.update((row.object_key, row.thumbnail_key))
    return keys


def wait_until_sealed(index: FrameIndex, cameras: Sequence[str], timeout: float = 60) -> None:
    """Until every frame of `cameras` is in the store: in a sealed segment, or stored
    before segments (no row is only in Kafka any more)."""
    wait_for("frames sealed", lambda: all(row.segment_key is not None or row.kafka_partition is None
                                          for camera in cameras for row in all_rows(index, camera)), timeout)


def assert_exactly_once(index: FrameIndex, client: Minio, bucket: str, cameras: dict[str, list[FrameEvent]]) -> None:
    """Every frame has one index row and is in the store (waits for its segment to be
    sealed) with its exact bytes and a thumbnail, and the cameras' objects are those
    their rows point at: nothing doubled, nothing left over but segments the segments
    table still names (begun by a worker killed before sealing them, or re-packed
    elsewhere after a rebalance), which the stale-segment sweep removes."""
    wait_until_sealed(index, list(cameras))
    reader = FrameReader(client, bucket)
    for camera, events in cameras.items():
        rows = all_rows(index, camera)
        assert sorted(r.frame_id for r in rows) == sorted(e.frame_id for e in events)
        assert index.totals(camera) == (len(events), sum(len(e.jpeg) for e in events))
        by_id = {row.frame_id: row for row in rows}
        for event in events:
            assert reader.original(by_id[event.frame_id]) == event.jpeg
            assert reader.thumbnail(by_id[event.frame_id])[:2] == b"\xff\xd8"
        names = object_names(client, bucket, camera)
        assert len(names) == len(set(names))
        pointed = stored_keys(rows)
        assert pointed <= set(names)
        assert set(names) - pointed <= {segment.segment_key for segment in index.camera_segments(camera)}
