"""ingest_http's parts alone, without Kafka or a server: Basic credentials and status
codes, the failed-login throttle, the MJPEG frame stream's flow control, the silence timer."""

from __future__ import annotations

import asyncio
import base64
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError
from kafka.future import Future as KafkaFuture

from ingest_http.auth import Credentials, check_login, parse_basic
from ingest_http.idle import IdleWatch
from ingest_http.publisher import Publisher, PublishError
from ingest_http.stream import FrameStream
from ingest_http.throttle import LoginThrottle
from sensr.cameras import CameraLogin, CameraTable
from sensr.frame_check import DEFAULT_MAX_FRAME_PIXELS
from sensr.frames import FrameEvent
from sensr.settings import CoreSettings, KafkaSettings
from tests.support.jpegs import make_jpeg, mpjpeg_stream, sample_frames


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run a coroutine test on a fresh event loop (no pytest plugin needed)."""
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))
    return run


def basic(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return "Basic " + base64.b64encode(raw).decode()


@pytest.mark.parametrize(("header", "expected"), [
    (basic("cam28:l4hqpy0ywm"), Credentials("cam28", "l4hqpy0ywm")),
    (basic("cam28:pa:ss"), Credentials("cam28", "pa:ss")),
    ("basic  " + base64.b64encode(b"cam:x").decode(), Credentials("cam", "x")),
    (basic("caméra:mot".encode("latin-1")), Credentials("caméra", "mot")),
    (basic("cam:"), Credentials("cam", "")),
    (None, None),
    ("", None),
    ("Bearer abc", None),
    ("Basic", None),
    ("Basic !!!notbase64", None),
    (basic("no-colon"), None),
])
def test_parse_basic(header: str | None, expected: Credentials | None) -> None:
    assert parse_basic(header) == expected


@pytest.fixture
def cameras() -> CameraTable:
    table = CameraTable(CoreSettings(), KafkaSettings())
    for login in (CameraLogin.create("cam1", "id1", "owner", "pw1"),
                  CameraLogin.create("cam2", "id2", "owner", "pw2"),
                  CameraLogin.create("off", "id3", "owner", "pw3", enabled=False)):
        table.apply(login.username.encode(), login.to_value())
    return table


@pytest.mark.parametrize(("camera", "credentials", "status", "reason"), [
    ("cam1", Credentials("cam1", "pw1"), None, None),
    ("cam1", None, 401, "unauthorized"),
    ("nope", None, 401, "unauthorized"),  # no credentials: nothing revealed
    ("nope", Credentials("nope", "x"), 404, "unknown_camera"),
    ("cam1", Credentials("cam1", "wrong"), 401, "bad_password"),
    ("cam1", Credentials("cam2", "pw2"), 401, "bad_password"),  # another camera's good login
    ("off", Credentials("off", "wrong"), 401, "bad_password"),  # disabled, but the guess is wrong
    ("off", Credentials("off", "pw3"), 403, "disabled"),
])
def test_check_login(cameras: CameraTable, camera: str, credentials: Credentials | None, status: int | None,
                     reason: str | None) -> None:
    denied = check_login(cameras, camera, credentials)
    assert (denied.status, denied.reason) == (status, reason) if denied else status is None
    if denied:
        assert denied.failed_login == (reason in ("unknown_camera", "bad_password"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_slows_an_address_over_the_limit_and_forgets_it_after_a_minute() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(limit=3, delay=2.0, clock=clock)
    for _ in range(2):
        throttle.record_failure("10.0.0.1")
    assert throttle.admit("10.0.0.1") == 0.0
    throttle.record_failure("10.0.0.1")
    assert throttle.admit("10.0.0.2") == 0.0  # other addresses are not affected
    # Over the limit: turns one delay apart, queued behind each other.
    assert throttle.admit("10.0.0.1") == 2.0
    assert throttle.admit("10.0.0.1") == 4.0
    clock.now += 4.0
    assert throttle.admit("10.0.0.1") == 2.0
    clock.now += 61.0  # the failures left the sliding window
    assert throttle.admit("10.0.0.1") == 0.0


def test_throttle_refuses_instead_of_queueing_too_long() -> None:
    throttle = LoginThrottle(limit=1, delay=1.0, clock=FakeClock())
    throttle.record_failure("a")
    waits = [throttle.admit("a") for _ in range(12)]
    assert waits[:10] == [float(n) for n in range(1, 11)]
    assert waits[10:] == [None, None]


def test_throttle_counts_a_sliding_minute_so_slow_failures_never_slow_an_address() -> None:
    """A camera retrying a wrong password every 10 s (6 a minute, limit 10) must not slow
    the other cameras behind its NAT address, however long it keeps failing."""
    clock = FakeClock()
    throttle = LoginThrottle(limit=10, delay=2.0, clock=clock)
    for _ in range(100):
        throttle.record_failure("10.0.0.1")
        clock.now += 10.0
        assert throttle.admit("10.0.0.1") == 0.0


def test_throttle_memory_is_bounded() -> None:
    throttle = LoginThrottle(limit=1, delay=1.0, max_addresses=3, clock=FakeClock())
    for address in ("a", "b", "c", "d"):
        throttle.record_failure(address)
    assert throttle.admit("a") == 0.0  # forgotten: the least recently failing
    assert throttle.admit("d") == 1.0


class FakeProducer:
    """Stands in for KafkaProducer.send: hands out kafka-python futures the test settles."""

    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = []
        self.futures: list[KafkaFuture] = []
        self.refuse = refuse

    def send(self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> KafkaFuture:
        if self.refuse:
            raise KafkaTimeoutError("no metadata")
        self.sent.append((topic, key, value, headers))
        self.futures.append(KafkaFuture())
        return self.futures[-1]


def from_io_thread(action: Callable[[], object]) -> None:
    """Run `action` on another thread, as the producer's I/O thread answers."""
    thread = threading.Thread(target=action)
    thread.start()
    thread.join()


@run_async
async def test_publisher_resolves_on_the_brokers_answer_from_its_io_thread() -> None:
    producer = FakeProducer()
    publisher = Publisher(ack_timeout=30)
    publisher.use(producer)
    events = [FrameEvent.new("cam1", make_jpeg(16, 16, seed=n), "http", "127.0.0.1") for n in range(3)]
    acks = [publisher.send(event) for event in events]
    assert [(t, k, v) for t, k, v, _ in producer.sent] == [("sensr.frames", b"cam1", e.jpeg) for e in events]
    assert producer.sent[0][3] == events[0].headers()
    assert publisher.in_flight == 3
    from_io_thread(lambda: (producer.futures[0].success(None), producer.futures[2].success(None),
                            producer.futures[1].failure(KafkaTimeoutError("expired"))))
    assert await acks[0] is None and await acks[2] is None
    with pytest.raises(PublishError, match="did not store"):
        await acks[1]
    await asyncio.sleep(0)  # the futures' done-callbacks run after this task's wake-up
    assert publisher.in_flight == 0


@run_async
async def test_publisher_gives_up_after_the_ack_timeout() -> None:
    publisher = Publisher(ack_timeout=0.2)
    publisher.use(FakeProducer())
    ack = publisher.send(FrameEvent.new("cam1", make_jpeg(16, 16), "http"))
    with pytest.raises(PublishError, match="within 0.2 s"):
        await asyncio.wait_for(ack, 10)


@run_async
async def test_publisher_reports_a_refused_send_as_a_failed_future() -> None:
    publisher = Publisher(ack_timeout=30)
    publisher.use(FakeProducer(refuse=True))
    with pytest.raises(PublishError, match="refused"):
        await publisher.send(FrameEvent.new("cam1", make_jpeg(16, 16), "http"))


class FakePublisher:
    """Records sends; acknowledges them when the test says so."""

    def __init__(self) -> None:
        self.events: list[FrameEvent] = []
        self.acks: list[asyncio.Future[None]] = []

    def send(self, event: FrameEvent) -> asyncio.Future[None]:
        self.events.append(event)
        self.acks.append(asyncio.get_running_loop().create_future())
        return self.acks[-1]

    def ack(self, count: int | None = None, error: Exception | None = None) -> None:
        for ack in [a for a in self.acks if not a.done()][:count]:
            if error is None:
                ack.set_result(None)
            else:
                ack.set_exception(error)


def new_stream(publisher: FakePublisher, in_flight_limit: int = 10**9, max_frame_bytes: int = 1 << 20) -> FrameStream:
    return FrameStream("cam1", "127.0.0.1", publisher, max_frame_bytes, in_flight_limit,  # type: ignore[arg-type]
                       DEFAULT_MAX_FRAME_PIXELS)


@run_async
async def test_frame_stream_publishes_each_frame_at_once_in_order() -> None:
    frames = list(sample_frames())
    publisher = FakePublisher()
    stream = new_stream(publisher)
    body = mpjpeg_stream(frames)
    for start in range(0, len(body), 777):
        assert stream.feed(body[start:start + 777]) is None
    assert [e.jpeg for e in publisher.events] == frames
    assert [e.sequence for e in publisher.events] == list(range(len(frames)))
    assert {e.stream_id for e in publisher.events} == {stream.stream_id}
    assert all(e.source == "mjpeg" and e.camera == "cam1" for e in publisher.events)
    stamps = [e.timestamp_us for e in publisher.events]
    assert stamps == sorted(stamps)
    publisher.ack()
    summary = await stream.finish()
    assert summary.frames == len(frames) and summary.truncated_bytes == 0
    assert summary.skipped_bytes == len(body) - sum(map(len, frames))


@run_async
async def test_frame_stream_holds_the_reader_while_too_much_awaits_kafka() -> None:
    jpeg = make_jpeg(64, 48)
    publisher = FakePublisher()
    stream = new_stream(publisher, in_flight_limit=3 * len(jpeg))
    for _ in range(3):
        assert stream.feed(jpeg) is None
    waiting = stream.feed(jpeg)  # the fourth frame takes it over the limit
    assert waiting is not None
    wait_task = asyncio.ensure_future(waiting)
    await asyncio.sleep(0.01)
    assert not wait_task.done()
    publisher.ack(1)
    await asyncio.wait_for(wait_task, 1)
    publisher.ack()
    assert (await stream.finish()).frames == 4


@run_async
async def test_frame_stream_reports_a_lost_frame() -> None:
    publisher = FakePublisher()
    stream = new_stream(publisher)
    stream.feed(make_jpeg(32, 32) * 2)
    publisher.ack(1)
    publisher.ack(error=PublishError("broker away"))
    await asyncio.sleep(0)
    assert isinstance(stream.failed, PublishError)
    with pytest.raises(PublishError):
        await stream.finish()
    assert stream.summary().frames == 1


@run_async
async def test_frame_stream_abort_drops_the_partial_frame() -> None:
    jpeg = make_jpeg(64, 48, seed=3)
    publisher = FakePublisher()
    stream = new_stream(publisher)
    stream.feed(jpeg + jpeg[: len(jpeg) // 2])
    stream.abort()
    assert [e.jpeg for e in publisher.events] == [jpeg]
    assert stream.summary().truncated_bytes == len(jpeg) // 2


@run_async
async def test_frame_stream_drops_oversized_frames() -> None:
    small, big = make_jpeg(16, 16), make_jpeg(200, 200, quality=95)
    publisher = FakePublisher()
    stream = new_stream(publisher, max_frame_bytes=len(big) - 1)
    stream.feed(small + big + small)
    publisher.ack()
    summary = await stream.finish()
    assert [e.jpeg for e in publisher.events] == [small, small]
    assert summary.oversized_frames == 1


@run_async
async def test_idle_watch_closes_silent_bodies_but_not_held_back_ones() -> None:
    loop = asyncio.get_running_loop()
    now = [loop.time()]
    loop.time = lambda: now[0]  # type: ignore[method-assign]  # a clock the test moves

    async def advance(seconds: float) -> None:
        for _ in range(int(seconds * 4)):  # in quarter seconds, letting due sweeps run
            now[0] += 0.25
            for _ in range(3):
                await asyncio.sleep(0)

    closed: list[str] = []
    watch = IdleWatch(10.0)
    held = watch.watch(lambda: closed.append("held"))
    talking = watch.watch(lambda: closed.append("talking"))
    done = watch.watch(lambda: closed.append("done"))
    watch.watch(lambda: closed.append("silent"))
    held.paused = True  # the server holds this client back: its silence does not count
    done.cancel()
    for _ in range(4):
        await advance(6.0)
        talking.touch()
    assert closed == ["silent"]
    held.paused = False
    for _ in range(3):
        await advance(3.0)
        talking.touch()
    assert closed == ["silent"]
    await advance(2.0)
    assert closed == ["silent", "held"]
    await advance(30.0)
    assert closed == ["silent", "held", "talking"]  # each once
