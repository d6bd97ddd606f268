"""examples/follow_camera.py, the stream subscriber written for outsiders, run as a real
process against the test session's Kafka while Sensr's own producer publishes frames."""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from kafka import KafkaProducer

from sensr.broker import FRAMES
from sensr.frames import H_SCHEMA, FrameEvent
from sensr.storage import object_keys
from tests.support.follower import EXAMPLE, Follower
from tests.support.kafka_tap import producer_for
from tests.support.jpegs import make_jpeg

SENSR_PACKAGES = {"sensr", "infra", "ingest_http", "ingest_ftp", "catalog_worker", "api", "tests"}


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("follow_camera", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def producer(kafka_bootstrap: str) -> Iterator[KafkaProducer]:
    producer = producer_for(kafka_bootstrap)
    yield producer
    producer.close()


@pytest.fixture
def follow(kafka_bootstrap: str, tmp_path: Path) -> Iterator:
    started: list[Follower] = []

    def start(camera: str, *args: str) -> Follower:
        follower = Follower(kafka_bootstrap, camera, tmp_path / "frames", *args)
        started.append(follower)
        return follower

    yield start
    for follower in started:
        follower.stop()


def publish(producer: KafkaProducer, event: FrameEvent) -> int:
    """Publish like an ingest edge (acks=all) and return the partition it went to."""
    return producer.send(FRAMES, key=event.key(), value=event.jpeg, headers=event.headers()).get(30).partition


def file_name(event: FrameEvent) -> str:
    """The leaf of the frame's object key in Sensr's bucket: what the example names its file."""
    return object_keys(event.camera, event.timestamp_us, event.frame_id)[0].rsplit("/", 1)[1]


def expected_files(events: list[FrameEvent]) -> dict[str, bytes]:
    return {file_name(event): event.jpeg for event in events}


def neighbours(example: ModuleType, camera: str, partitions: int) -> tuple[str, str]:
    """A camera whose frames share `camera`'s partition, and one whose frames do not."""
    home = example.partition_for(camera, partitions)
    names = (f"{camera}-other{i}" for i in range(10_000))
    same = next(name for name in names if example.partition_for(name, partitions) == home)
    elsewhere = next(name for name in names if example.partition_for(name, partitions) != home)
    return same, elsewhere


def test_example_imports_no_sensr_code() -> None:
    tree = ast.parse(EXAMPLE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert not imported & SENSR_PACKAGES, imported & SENSR_PACKAGES
    assert "kafka" in imported


def test_partition_rule_is_the_producers(example: ModuleType, producer: KafkaProducer, unique_name: str) -> None:
    """The example reads only the camera's partition: Sensr's producer must put it there."""
    partitions = len(producer.partitions_for(FRAMES))
    assert partitions > 1
    for i in range(12):
        camera = f"{unique_name}{i}"
        event = FrameEvent.new(camera, make_jpeg(seed=i), "http", client="192.0.2.1")
        assert publish(producer, event) == example.partition_for(camera, partitions)


def test_follows_one_camera_while_frames_arrive(example: ModuleType, follow, producer: KafkaProducer,
                                                unique_name: str) -> None:
    camera = unique_name
    same_partition, other_partition = neighbours(example, camera, len(producer.partitions_for(FRAMES)))
    before = FrameEvent.new(camera, make_jpeg(seed=99), "http", client="192.0.2.1")
    publish(producer, before)  # published before it started: not for a follower from the end

    ours = [
        FrameEvent.new(camera, make_jpeg(seed=1), "http", client="192.0.2.1"),
        FrameEvent.new(camera, make_jpeg(seed=2), "ftp", client="192.0.2.2", filename="snap_20261125_101530.jpg",
                       camera_time_us=1_795_602_930_000_000),
        *(FrameEvent.new(camera, make_jpeg(seed=10 + n), "mjpeg", client="192.0.2.3",
                         stream_id="01KAW7H3Q05BKYW9KHAAAG5R1N", sequence=n) for n in range(3)),
        # Bigger than kafka-python's default fetch size (1 MiB): the example must allow large records.
        FrameEvent.new(camera, make_jpeg(1400, 1000, quality=97, seed=5), "http", client="192.0.2.1"),
    ]
    assert len(ours[-1].jpeg) > 1024 * 1024

    follower = follow(camera, "--max-frames", str(len(ours)))
    follower.wait_following()
    for n, event in enumerate(ours):
        publish(producer, FrameEvent.new(same_partition, make_jpeg(seed=200 + n), "http", client="192.0.2.9"))
        publish(producer, event)
        publish(producer, FrameEvent.new(other_partition, make_jpeg(seed=300 + n), "http", client="192.0.2.9"))
        if n == 2:  # a record of a layout it does not know: skipped, with a word on stderr
            future = FrameEvent.new(camera, make_jpeg(seed=400), "http")
            headers = [(H_SCHEMA, b"2") if name == H_SCHEMA else (name, value) for name, value in future.headers()]
            producer.send(FRAMES, key=future.key(), value=future.jpeg, headers=headers).get(30)

    assert follower.finish() == 0, follower.stderr
    assert follower.saved() == expected_files(ours)  # the same bytes, only this camera's, nothing earlier
    lines = follower.stdout.splitlines()
    assert len(lines) == len(ours)
    for line, event in zip(lines, ours):  # one line per frame, in order
        assert file_name(event) in line and event.source in line
    assert "snap_20261125_101530.jpg" in lines[1] and "#2" in lines[4]
    assert "unknown sensr-schema" in follower.stderr
    assert f"saved {len(ours)} frame(s) of {camera}" in follower.stderr


def test_from_the_beginning(follow, producer: KafkaProducer, unique_name: str) -> None:
    camera = unique_name
    earlier = [FrameEvent.new(camera, make_jpeg(seed=500 + n), "ftp", client="192.0.2.4", filename=f"img{n}.jpg")
               for n in range(3)]
    for event in earlier:
        publish(producer, event)
        publish(producer, FrameEvent.new(f"{camera}x", make_jpeg(seed=600), "ftp", client="192.0.2.4"))
    follower = follow(camera, "--from-beginning", "--max-frames", "4")
    follower.wait_following()
    later = FrameEvent.new(camera, make_jpeg(seed=700), "http", client="192.0.2.4")
    publish(producer, later)
    assert follower.finish() == 0, follower.stderr
    assert follower.saved() == expected_files([*earlier, later])


def test_stops_cleanly_when_told(follow, unique_name: str) -> None:
    follower = follow(unique_name)
    follower.wait_following()
    follower.process.terminate()
    assert follower.finish(timeout=30) == 0
    assert f"saved 0 frame(s) of {unique_name}" in follower.stderr
    assert follower.saved() == {}
