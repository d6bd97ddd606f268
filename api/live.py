"""Live feeds: one Kafka consumer per topic for the whole process, fanned out to viewers.

`Fanout` follows a topic (`sensr.frames` for the live MJPEG view, `sensr.catalog` for
server-sent events) from its end and hands each record to the viewers of the camera it
belongs to (the record key is the camera username). However many viewers watch however
many cameras, there is one consumer per topic; it runs only while someone watches (it
stops after `idle_seconds` without viewers and starts again, from the end, on the next).

Each viewer has a queue bounded by weight (`Subscription`: bytes of JPEG for the frame
feed, a count of events for the catalog feed), big enough for the bursts one poll
brings. A viewer that reads slower than items arrive loses the oldest queued items,
never the newest, and never grows memory: the feed never waits for a viewer.

Threads: the consumer runs in a daemon thread; everything about subscriptions happens
on the asyncio loop, and the thread hands records over with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from kafka import KafkaConsumer, TopicPartition
from prometheus_client import Counter, Gauge

from sensr.logs import get_logger

log = get_logger(__name__)
T = TypeVar("T")

VIEWERS = Gauge("sensr_api_live_viewers", "Live viewers connected", ["feed"])
DROPPED = Counter("sensr_api_live_dropped_total", "Items skipped because a viewer fell behind", ["feed"])
UNREADABLE = Counter("sensr_api_live_unreadable_total", "Records a live feed could not decode", ["feed"])

Decode = Callable[[bytes, bytes | None, list[tuple[str, bytes]]], T]
"""Turns a record's key, value and headers into the item viewers get; raises ValueError
for a record that does not follow its topic's contract."""
Weigh = Callable[[T], int]


def count_one(_item: object) -> int:
    return 1


class Subscription(Generic[T]):
    """One viewer's queue of one camera's items: at most `capacity` in weight (but
    always the newest item), the oldest dropped first."""

    def __init__(self, camera: str, capacity: int, feed: str, weigh: Weigh[T] = count_one) -> None:
        self.camera = camera
        self.ready = asyncio.Event()
        """Set once the feed reads the topic's end: items published after that reach this viewer."""
        self._items: deque[tuple[T, int]] = deque()
        self._weight = 0
        self._capacity, self._weigh = capacity, weigh
        self._wakeup = asyncio.Event()
        self._closed = False
        self._feed = feed

    def offer(self, item: T) -> None:
        weight = self._weigh(item)
        self._items.append((item, weight))
        self._weight += weight
        while self._weight > self._capacity and len(self._items) > 1:
            self._weight -= self._items.popleft()[1]
            DROPPED.labels(self._feed).inc()
        self._wakeup.set()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    async def next(self) -> T | None:
        """The next item, waiting for one; None once closed. Safe to cancel (wait_for)."""
        while not self._items and not self._closed:
            self._wakeup.clear()
            await self._wakeup.wait()
        if self._closed:
            return None
        item, weight = self._items.popleft()
        self._weight -= weight
        return item


class Fanout(Generic[T]):
    def __init__(self, name: str, topic: str, open_consumer: Callable[[], KafkaConsumer], decode: Decode[T],
                 capacity: int, weigh: Weigh[T] = count_one, idle_seconds: float = 30.0) -> None:
        self.name, self.topic = name, topic
        self._open_consumer, self._decode, self._weigh = open_consumer, decode, weigh
        self._capacity, self._idle_seconds = capacity, idle_seconds
        self._lock = threading.Lock()  # guards _subs, _wanted and _live between loop and thread
        self._subs: dict[str, set[Subscription[T]]] = {}
        self._wanted: frozenset[str] = frozenset()
        self._live = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def subscribe(self, camera: str) -> Subscription[T]:
        """A queue of `camera`'s items from now on (wait for `.ready`). Call on the loop."""
        sub: Subscription[T] = Subscription(camera, self._capacity, self.name, self._weigh)
        with self._lock:
            self._subs.setdefault(camera, set()).add(sub)
            self._wanted = frozenset(self._subs)
            if self._live:
                sub.ready.set()
        VIEWERS.labels(self.name).inc()
        if self._thread is None:
            self._loop = asyncio.get_running_loop()
            self._thread = threading.Thread(target=self._run, name=f"live-{self.name}", daemon=True)
            self._thread.start()
        self._wake.set()
        return sub

    def unsubscribe(self, sub: Subscription[T]) -> None:
        with self._lock:
            subs = self._subs.get(sub.camera, set())
            if sub not in subs:
                return
            subs.discard(sub)
            if not subs:
                del self._subs[sub.camera]
            self._wanted = frozenset(self._subs)
        VIEWERS.labels(self.name).dec()
        sub.close()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- the consumer thread -----------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wanted:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            try:
                self._follow()
            except Exception as error:  # the broker may be away: say so, retry, never die
                log.warning("live_feed_retry", feed=self.name, error=str(error))
                self._stop.wait(1.0)

    def _follow(self) -> None:
        """Read from the topic's end until stopped or idle for `idle_seconds`."""
        consumer = self._open_consumer()
        try:
            numbers = sorted(consumer.partitions_for_topic(self.topic) or ())
            if not numbers:
                raise RuntimeError(f"topic {self.topic} has no partitions (not created yet?)")
            partitions = [TopicPartition(self.topic, number) for number in numbers]
            consumer.assign(partitions)
            consumer.seek_to_end(*partitions)
            for partition in partitions:
                consumer.position(partition)  # resolve the end offsets now, so `ready` means it
            self._go_live()
            idle_since: float | None = None
            while not self._stop.is_set():
                self._hand_over(consumer.poll(timeout_ms=100))
                with self._lock:
                    if self._subs:
                        idle_since = None
                    elif idle_since is None:
                        idle_since = time.monotonic()
                    elif time.monotonic() - idle_since > self._idle_seconds:
                        self._live = False
                        return
        finally:
            with self._lock:
                self._live = False
            consumer.close()

    def _go_live(self) -> None:
        with self._lock:
            self._live = True
            waiting = [sub for subs in self._subs.values() for sub in subs]
        self._call_on_loop(_set_ready, waiting)

    def _hand_over(self, batches: dict[TopicPartition, list]) -> None:
        wanted = self._wanted
        items: list[tuple[str, T]] = []
        for records in batches.values():
            for record in records:
                camera = record.key.decode(errors="replace") if record.key else ""
                if camera not in wanted:
                    continue
                try:
                    items.append((camera, self._decode(record.key, record.value, record.headers)))
                except ValueError as error:
                    UNREADABLE.labels(self.name).inc()
                    log.warning("live_record_unreadable", feed=self.name, camera=camera, error=str(error))
        if items:
            self._call_on_loop(self._deliver, items)

    def _call_on_loop(self, callback: Callable[..., None], *args: object) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop has closed: the process is shutting down
            self._stop.set()

    def _deliver(self, items: list[tuple[str, T]]) -> None:
        for camera, item in items:
            for sub in tuple(self._subs.get(camera, ())):
                sub.offer(item)


def _set_ready(subs: list[Subscription[T]]) -> None:
    for sub in subs:
        sub.ready.set()
