"""Waiting for a key frame to be stored, by following the catalog worker's announcements.

The activity worker and the catalog worker both read `sensr.frames`; an event's start
record may come a moment before its key frame is stored. The catalog worker announces
each frame on `sensr.catalog` once it is in the bucket and the index, so a send whose key
frame is missing watches for that frame id and awaits its announcement (an asyncio
event: no thread waits), then reads the frame.

A watch is registered *before* the caller looks in the index: a frame stored after that
look is announced after it, so the announcement is never missed. One thread follows the
topic from its end (no consumer group: every replica sees every announcement); what it
missed (a broker away, the moments before its partitions were assigned) only costs the
caller its wait's timeout, after which it looks in the index again.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kafka.errors import KafkaError

from notifier import metrics
from sensr.broker import close_quietly
from sensr.catalog_event import CatalogEventError, decode_catalog_event
from sensr.logs import get_logger

log = get_logger(__name__)
POLL_MS = 200


class StoredFrames:
    def __init__(self, consumer: Callable[[], Any]) -> None:
        """`consumer()` makes a kafka-python consumer of `sensr.catalog` positioned at its end."""
        self._make_consumer = consumer
        self._watches: dict[str, list[asyncio.Event]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Follow the topic on a daemon thread, setting watches on `loop`."""
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="stored-frames", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @contextmanager
    def watch(self, frame_id: str) -> Iterator[asyncio.Event]:
        """An event set when the catalog announces `frame_id` (on the event loop's thread;
        enter it there)."""
        stored = asyncio.Event()
        self._watches.setdefault(frame_id, []).append(stored)
        try:
            yield stored
        finally:
            waiting = self._watches.get(frame_id, [])
            if stored in waiting:
                waiting.remove(stored)
            if not waiting:
                self._watches.pop(frame_id, None)

    def _announced(self, frame_id: str) -> None:
        for stored in self._watches.get(frame_id, ()):
            stored.set()

    def _run(self) -> None:
        consumer = None
        while not self._stop.is_set():
            try:
                consumer = consumer or self._make_consumer()
                polled = consumer.poll(timeout_ms=POLL_MS)
            except KafkaError as error:  # kafka-python reconnects; a missed announcement costs a timeout
                log.warning("catalog_follow_failed", error=str(error))
                self._stop.wait(1.0)
                continue
            for records in polled.values():
                for record in records:
                    self._seen(record.key, record.value)
        if consumer is not None:
            close_quietly("catalog follower", consumer.close)

    def _seen(self, key: bytes | None, value: bytes | None) -> None:
        try:
            frame_id = decode_catalog_event(key, value).frame_id
        except CatalogEventError as bad:
            metrics.BAD_CATALOG_EVENTS.inc()
            log.warning("catalog_event_invalid", error=str(bad))
            return
        if frame_id in self._watches and self._loop is not None:  # a read of a dict the loop changes: GIL-atomic
            self._loop.call_soon_threadsafe(self._announced, frame_id)
