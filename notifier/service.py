"""One notifier replica: reads `sensr.activity` in the consumer group "notifier", records
a delivery per record and matching rule, sends them, and serves /healthz /readyz
/metrics on its side port; run by `sensr.lifecycle.run_async_service`.

Two loops share the event loop:

* intake: poll a batch of activity records (in the consumer's own thread), record its
  deliveries (`notifier.intake`), then commit the batch's offsets, then start sending
  the deliveries just recorded. A record is committed only once its deliveries are in
  the database, so nothing read is lost in a crash; and recording is idempotent, so
  nothing read twice is sent twice.
* due: every `SENSR_NOTIFIER_POLL_SECONDS`, claim the deliveries that are due (retries,
  and sends whose replica died before recording them) and send them.

Sends run as tasks, at most `SENSR_NOTIFIER_CONCURRENCY` at once, first attempts ahead
of retries (`notifier.slots`). On a stop the loops
end, the sends under way get a moment to finish, and whatever is left unrecorded is
sent again by a replica once its lease ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from typing import Any, TypeVar

from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from notifier import metrics
from notifier.dispatch import Channels, Dispatcher
from notifier.egress import EgressPolicy
from notifier.intake import Incoming, Intake
from notifier.key_frames import KeyFrames
from notifier.mail import SmtpSender, sender_address
from notifier.push import PushSender
from notifier.rules import RuleTable
from notifier.slots import SendSlots, claim_due
from notifier.webhooks import WebhookSender
from sensr.activity import ActivityRecordError, decode_activity_record
from sensr.broker import ACTIVITY, close_quietly, ensure_topics, make_consumer, max_record_bytes
from sensr.cameras import CameraTable
from sensr.deliveries import Delivery, DeliveryLog
from sensr.frame_reader import FrameReader
from sensr.frames import now_us
from sensr.health import OpsServer
from sensr.index import FrameIndex
from sensr.links import public_base_url
from sensr.lifecycle import retry_delay, wait_for_async
from sensr.logs import get_logger
from sensr.settings import Settings

log = get_logger(__name__)
T = TypeVar("T")
DRAIN_SECONDS = 10.0
POLL_RECORDS = 200
FETCH_WAIT_MS = 50
"""How long the broker may hold a fetch to fill it (kafka-python's default, 500 ms, would
be most of an alert's latency budget; activity records are few and small)."""
KEY_FRAME_READERS = 4
"""Key frames read from Kafka at once (each read is one fetch of a few milliseconds)."""


class NotifierService:
    """The notifier as an `AsyncService` (see `sensr.lifecycle`)."""

    def __init__(self, settings: Settings, stop: asyncio.Event) -> None:
        self._settings, self._stop = settings, stop
        self._resources = ExitStack()
        self._rules = RuleTable(settings.core, settings.kafka)
        self._cameras = CameraTable(settings.core, settings.kafka)
        self._consumer_thread = ThreadPoolExecutor(1, thread_name_prefix="notifier-consumer")
        self._consumer: Any = None
        self._loops: list[asyncio.Task[None]] = []
        self._sends: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._consuming = False
        self._failing: str | None = None

    def ready(self) -> dict[str, bool]:
        """/readyz: the rules are loaded and the intake loop runs without a failing dependency."""
        return {"rules_loaded": self._rules.loaded.is_set(), "cameras_loaded": self._cameras.loaded.is_set(),
                "consuming": self._consuming,
                "database": self._failing != "database", "kafka": self._failing != "kafka"}

    async def start(self) -> None:
        settings, notifier = self._settings, self._settings.notifier
        resources = self._resources
        ops = OpsServer(notifier.notifier_ops_host, notifier.notifier_ops_port, self.ready).start()
        resources.callback(ops.stop)
        log.info("ops_listening", host=notifier.notifier_ops_host, port=ops.port)
        self._rules.start()
        resources.callback(self._rules.stop)
        self._cameras.start()
        resources.callback(self._cameras.stop)
        resources.callback(self._consumer_thread.shutdown, wait=False, cancel_futures=True)
        await self._wait_for("kafka topics", lambda: ensure_topics(settings.core, settings.kafka), KafkaError)
        index = await self._wait_for("index database", lambda: FrameIndex.open(settings.database_url()), DBAPIError)
        resources.callback(index.close)
        await self._wait_for("alert rules", self._rules.wait_loaded, TimeoutError)
        await self._wait_for("camera table", self._cameras.wait_loaded, TimeoutError)

        policy = EgressPolicy(notifier.notifier_allowed_networks)
        webhooks = WebhookSender(policy, notifier.notifier_timeout, notifier.notifier_ca_file)
        resources.callback(webhooks.close)
        channels = Channels(email=SmtpSender(notifier) if notifier.smtp_host else None,
                            sender_address=sender_address(notifier, settings.core), webhooks=webhooks,
                            push=PushSender(policy, notifier.notifier_timeout))
        deliveries = DeliveryLog(index.engine)
        self._deliveries = deliveries
        frame_reader = FrameReader.connect(settings.s3, KEY_FRAME_READERS, settings.kafka.kafka_bootstrap,
                                           max_record_bytes(settings.core))
        resources.callback(frame_reader.close)
        key_frames = KeyFrames(index, frame_reader)
        self._dispatcher = Dispatcher(deliveries, self._rules, self._cameras, key_frames, channels,
                                      public_base_url(settings),
                                      notifier.notifier_first_retry_seconds)
        self._intake = Intake(self._rules, self._cameras, deliveries, notifier.notifier_lease_seconds, now_us)
        self._slots = SendSlots(notifier.notifier_concurrency, notifier.notifier_retry_concurrency)
        self._consumer = await self._in_consumer_thread(lambda: make_consumer(
            settings.core, settings.kafka, ACTIVITY, group_id=notifier.notifier_group_id,
            client_id="sensr-notifier", fetch_max_wait_ms=FETCH_WAIT_MS))
        resources.callback(self._close_consumer)
        self._loops = [asyncio.create_task(self._intake_loop(), name="intake"),
                       asyncio.create_task(self._due_loop(), name="due")]
        log.info("notifier_started", group=notifier.notifier_group_id)

    async def drain(self) -> None:
        """Stop reading; give the sends under way a moment to finish and be recorded."""
        self._wake.set()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self._sends:
            await asyncio.wait(self._sends, timeout=DRAIN_SECONDS)

    async def close(self) -> None:
        for task in (*self._loops, *self._sends):
            task.cancel()
        await asyncio.gather(*self._loops, *self._sends, return_exceptions=True)
        self._resources.close()

    def _close_consumer(self) -> None:
        close_quietly("consumer", lambda: self._consumer.close(autocommit=False))  # leaves the group

    # -- loops -------------------------------------------------------------------------

    async def _intake_loop(self) -> None:
        self._consuming = True
        failures = 0
        while not self._stop.is_set():
            try:
                polled = await self._in_consumer_thread(
                    lambda: self._consumer.poll(timeout_ms=500, max_records=POLL_RECORDS))
            except KafkaError as error:  # the broker is away: kafka-python reconnects; poll again
                failures += 1
                self._failing = "kafka"
                log.warning("activity_poll_failed", error=str(error), attempt=failures)
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), retry_delay(failures, self._max_delay))
                continue
            if failures:
                failures, self._failing = 0, None
            batch = [incoming for records in polled.values() for record in records
                     if (incoming := _decode(record.key, record.value)) is not None]
            if not polled:
                continue
            held = await self._record(batch)
            if held is None:  # stopped before the batch could be recorded: not committed, read again later
                return
            try:
                await self._in_consumer_thread(self._consumer.commit)
            except KafkaError as error:  # partitions moved, or the broker is away: the batch is read
                log.warning("commit_failed", error=str(error))  # again, and its deliveries exist: no resend
            for delivery in held:
                self._start_send(delivery)
        self._consuming = False

    async def _record(self, batch: list[Incoming]) -> list[Delivery] | None:
        """The batch's deliveries recorded, trying again while the database fails."""
        attempt = 0
        while not self._stop.is_set():
            try:
                held = await asyncio.to_thread(self._intake.take, batch)
            except SQLAlchemyError as error:
                attempt += 1
                self._failing = "database"
                metrics.INTAKE_RETRIES.inc()
                log.warning("deliveries_not_recorded", error=str(error).splitlines()[0], attempt=attempt)
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), retry_delay(attempt, self._max_delay))
                continue
            self._failing = None
            return held
        return None

    async def _due_loop(self) -> None:
        notifier = self._settings.notifier
        while not self._stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), notifier.notifier_poll_seconds)
            self._wake.clear()
            room = self._slots.room()
            if self._stop.is_set() or room.total <= 0:
                continue
            now = now_us()
            try:
                due = await asyncio.to_thread(claim_due, self._deliveries, room, now,
                                              now + int(notifier.notifier_lease_seconds * 1e6))
            except SQLAlchemyError as error:
                log.warning("due_deliveries_not_read", error=str(error).splitlines()[0])
                continue
            for delivery in due:
                self._start_send(delivery)

    def _start_send(self, delivery: Delivery) -> None:
        task = asyncio.create_task(self._send(delivery), name=f"send-{delivery.delivery_id}")
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send(self, delivery: Delivery) -> None:
        async with self._slots.turn(delivery):
            await self._dispatcher.send(delivery)

    # -- helpers -----------------------------------------------------------------------

    @property
    def _max_delay(self) -> float:
        return self._settings.core.dependency_wait_max_seconds

    async def _in_consumer_thread(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._consumer_thread, call)

    async def _wait_for(self, what: str, attempt: Callable[[], T], *errors: type[BaseException]) -> T:
        return await wait_for_async(what, lambda: asyncio.to_thread(attempt), self._stop,
                                    max_delay=self._max_delay, errors=errors)


def _decode(key: bytes | None, value: bytes | None) -> Incoming | None:
    try:
        record = decode_activity_record(key, value)
    except ActivityRecordError as bad:
        metrics.BAD_RECORDS.inc()
        log.warning("activity_record_invalid", error=str(bad))
        return None
    metrics.RECORDS.labels(str(record.type)).inc()
    assert value is not None
    return Incoming(record, value)
