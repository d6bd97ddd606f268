"""ingest_ftp's parts on their own: names, limits, the re-upload memory, the virtual
tree, the loop hand-off and the publisher (with a stand-in producer: no Kafka, no FTP)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from kafka.future import Future
from pyftpdlib.ioloop import IOLoop

from ingest_ftp.filesystem import CameraFiles, Upload
from ingest_ftp.handoff import LoopHandoff
from ingest_ftp.limits import CameraSessions, FailedLogins, FrameRate
from ingest_ftp.names import camera_time_us, final_name
from ingest_ftp.publisher import FramePublisher, Outcome
from ingest_ftp.recent import RecentUploads, UploadKey
from ingest_ftp.service import parse_port_range
from sensr.frames import FrameEvent


def _us(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1_000_000)


@pytest.mark.parametrize(("name", "moment"), [
    ("SensrCam2010102011073001.jpg", "2010-10-20T11:07:30.010000"),
    ("Cam_00_20261124101530.jpg", "2026-11-24T10:15:30"),
    ("192.168.1.64_01_20261124101530123_MOTION_DETECTION.jpg", "2026-11-24T10:15:30.123000"),
    ("2026-11-24_10-15-30.jpg", "2026-11-24T10:15:30"),
    ("snap_20261124_101530.jpg", "2026-11-24T10:15:30"),
    ("2026-11-24/10-15-30.jpg", "2026-11-24T10:15:30"),
])
def test_camera_time_from_file_names(name: str, moment: str) -> None:
    assert camera_time_us(name) == _us(moment)


@pytest.mark.parametrize("name", ["imagenew.jpg", "image000123.jpg", "20261399101530.jpg",
                                  "123456789012345678901.jpg", "1700000000000.jpg"])
def test_names_without_a_time(name: str) -> None:
    assert camera_time_us(name) is None


def test_final_names() -> None:
    assert final_name("a/20261124.jpg.part") == "a/20261124.jpg"
    assert final_name("IMG.JPG.TMP") == "IMG.JPG"
    assert final_name("image.jpg") == "image.jpg"
    assert final_name(".part") == ".part"


def test_recent_uploads_window_and_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    recent = RecentUploads(window=10, max_entries=2)
    a, b, c = (UploadKey.of("cam", name, b"jpeg") for name in "abc")
    recent.remember(a)
    assert a in recent and UploadKey.of("cam", "a", b"other bytes") not in recent
    clock[0] += 11
    assert a not in recent  # out of the window
    for key in (a, b, c):
        recent.remember(key)
    assert a not in recent and b in recent and c in recent  # the oldest goes past the bound
    off = RecentUploads(window=0)
    off.remember(a)
    assert a not in off


def test_frame_rate_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [50.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    rate = FrameRate(2)
    assert [rate.allow("cam") for _ in range(3)] == [True, True, False]
    assert rate.allow("other")  # per camera
    clock[0] += 0.5
    assert rate.allow("cam") and not rate.allow("cam")
    assert all(FrameRate(0).allow("cam") for _ in range(100))  # 0: no limit


def test_camera_sessions_and_failed_logins() -> None:
    sessions = CameraSessions(limit=2)
    assert sessions.admit("cam") and sessions.admit("cam") and not sessions.admit("cam")
    sessions.release("cam")
    assert sessions.admit("cam")

    clock = [0.0]
    failures = FailedLogins(limit=2, delay=3.0, clock=lambda: clock[0])
    assert [failures.record("10.0.0.1") for _ in range(3)] == [0.0, 0.0, 3.0]
    assert failures.record("10.0.0.2") == 0.0
    clock[0] += 61
    assert failures.record("10.0.0.1") == 0.0  # a minute later the budget is back


def test_failed_logins_count_a_sliding_minute() -> None:
    clock = [0.0]
    failures = FailedLogins(limit=2, delay=3.0, clock=lambda: clock[0])
    waits = []
    for _ in range(10):  # one failure every 30 s: two within any minute, never three
        waits.append(failures.record("10.0.0.1"))
        clock[0] += 30
    assert waits == [0.0] * 10
    assert FailedLogins(limit=0, delay=3.0).record("10.0.0.1") == 3.0  # 0: every reply waits


def test_camera_files_tree() -> None:
    tree = CameraFiles(limit=3)
    tree.put("/2026-11-24", None)
    tree.put("/2026-11-24/a.jpg", 10)
    assert tree.children("/") == ["2026-11-24"] and tree.children("/2026-11-24") == ["a.jpg"]
    tree.move("/2026-11-24", "/old")
    assert tree.get("/old/a.jpg").size == 10 and tree.get("/2026-11-24/a.jpg") is None
    assert tree.get("/old").is_dir and tree.get("/").is_dir
    for number, name in enumerate(("/b.jpg", "/c.jpg", "/d.jpg")):
        tree.put(name, number)
    assert tree.get("/old") is None and tree.get("/old/a.jpg") is None  # the oldest were forgotten
    tree.drop("/c.jpg")
    assert tree.children("/") == ["b.jpg", "d.jpg"]


def test_upload_is_bounded() -> None:
    upload = Upload("/x.jpg", limit=10)
    upload.write(b"12345")
    upload.write(b"123456")
    assert upload.failure == "too_large" and not upload.data
    assert upload.write(b"more") == 4 and not upload.data


def test_port_range() -> None:
    assert parse_port_range("30000-30049") == range(30000, 30050)
    for bad in ("30049-30000", "80-90", "x-y"):
        with pytest.raises(ValueError):
            parse_port_range(bad)


# -- the loop side -------------------------------------------------------------------------

def _run_until(ioloop: IOLoop, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        ioloop.loop(timeout=0.02, blocking=False)


def test_handoff_runs_callbacks_on_the_loop_thread() -> None:
    ioloop = IOLoop()
    handoff = LoopHandoff(ioloop)
    ran: list[tuple[int, str]] = []
    threads = [threading.Thread(target=lambda i=i: handoff.call_soon(
        lambda: ran.append((i, threading.current_thread().name)))) for i in range(20)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _run_until(ioloop, lambda: len(ran) == 20)
        assert {name for _, name in ran} == {threading.current_thread().name}
    finally:
        ioloop.close()


class FakeProducer:
    """Records sends; each returns a future the test completes. Without `partitions`
    (metadata) the publisher sends from its thread, and `gate` holds it there the way a
    producer waiting for metadata does."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Future]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.partitions: set[int] | None = {0}
        self._metadata = self

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return self.partitions

    def partitions_for(self, topic: str) -> set[int]:
        self.gate.wait(10)
        return self.partitions or {0}

    def send(self, topic: str, key: bytes, value: bytes, headers: Any) -> Future:
        future = Future()
        self.sent.append((dict(headers)["filename"].decode(), future))
        return future

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        pass


@pytest.fixture
def loop_and_producer():
    ioloop, producer = IOLoop(), FakeProducer()
    publisher = FramePublisher(producer, ioloop, RecentUploads(window=60), timeout=0.5,  # type: ignore[arg-type]
                               delivery_timeout=0.45)
    yield ioloop, producer, publisher
    producer.gate.set()
    publisher.close(timeout=1)
    ioloop.close()


def _publish(publisher: FramePublisher, name: str, jpeg: bytes = b"\xff\xd8jpeg\xff\xd9") -> list[Outcome]:
    outcomes: list[Outcome] = []
    event = FrameEvent.new("cam", jpeg, "ftp", "127.0.0.1", filename=name)
    publisher.publish(event, UploadKey.of("cam", name, jpeg), outcomes.append)
    return outcomes


def test_publisher_acknowledges_remembers_and_coalesces(loop_and_producer) -> None:
    ioloop, producer, publisher = loop_and_producer
    first, twin = _publish(publisher, "a.jpg"), _publish(publisher, "a.jpg")  # the same upload twice at once
    _run_until(ioloop, lambda: len(producer.sent) == 1)
    producer.sent[0][1].success("metadata")
    _run_until(ioloop, lambda: bool(first and twin))
    assert first == twin == [Outcome(True)]
    assert _publish(publisher, "a.jpg") == [Outcome(True, reupload=True)]  # answered at once, not sent
    failed = _publish(publisher, "b.jpg")
    _run_until(ioloop, lambda: len(producer.sent) == 2)
    producer.sent[1][1].failure(RuntimeError("NotEnoughReplicas"))
    _run_until(ioloop, lambda: bool(failed))
    assert failed[0].reason == "kafka_error" and len(producer.sent) == 2


def test_publisher_timeout_and_late_ack(loop_and_producer) -> None:
    ioloop, producer, publisher = loop_and_producer
    outcomes = _publish(publisher, "slow.jpg")
    _run_until(ioloop, lambda: bool(outcomes))
    assert outcomes[0].reason == "kafka_timeout"
    producer.sent[0][1].success("metadata")  # Kafka took it after all
    _run_until(ioloop, lambda: _publish(publisher, "slow.jpg") == [Outcome(True, reupload=True)])


def test_publisher_never_sends_what_it_could_not_give_up_in_time(loop_and_producer) -> None:
    """Frames that waited for Kafka's metadata longer than the timeout leaves the producer
    to give them up are answered "not stored" and never sent: sent later, they could be
    written after the camera was told to upload them again. (How late is too late is
    `sensr.publisher`'s rule, shown with a manual clock in tests/sensr/test_publisher.py;
    this is the rule through pyftpdlib's IOLoop.)"""
    ioloop, producer, publisher = loop_and_producer
    producer.partitions = None  # no metadata: sent from the thread ...
    producer.gate.clear()  # ... which waits for it
    stuck, queued = _publish(publisher, "stuck.jpg"), _publish(publisher, "queued.jpg")
    _run_until(ioloop, lambda: bool(stuck and queued))
    assert stuck[0].reason == queued[0].reason == "kafka_timeout"
    producer.gate.set()  # the metadata comes, after both were answered
    on_time = _publish(publisher, "on_time.jpg")  # behind them in the thread's queue
    _run_until(ioloop, lambda: len(producer.sent) == 1)
    assert [name for name, _ in producer.sent] == ["on_time.jpg"]  # the two before it were dropped
    producer.sent[0][1].success("metadata")
    _run_until(ioloop, lambda: bool(on_time))
    assert on_time == [Outcome(True)]


def test_publisher_sends_from_its_thread_when_the_metadata_comes_in_time(loop_and_producer) -> None:
    ioloop, producer, publisher = loop_and_producer
    producer.partitions = None  # sent from the thread, whose wait for metadata ends at once
    outcomes = _publish(publisher, "prompt.jpg")
    _run_until(ioloop, lambda: len(producer.sent) == 1)
    producer.sent[0][1].success("metadata")
    _run_until(ioloop, lambda: bool(outcomes))
    assert outcomes == [Outcome(True)]
