"""Sending one delivery and recording what came of it.

A delivery held by this replica (just recorded by the intake, or claimed when due) is
turned into an `Alert` (the rule from the rule table, the record from the delivery row,
the key frame from the store), sent over the rule's channel, and the outcome recorded:
delivered, failed for good, or pending again at the time `webhooks.retry_delay` gives
(timeouts, connection errors, 5xx, 429; for up to 24 hours). A retry is a row with a
time, picked up by `Dispatcher.claim_due`: nothing waits in memory, so one slow or
failing receiver never holds up another camera's alerts.
"""

from __future__ import annotations

import asyncio
import random
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from kafka.errors import KafkaError
from minio.error import S3Error
from sqlalchemy.exc import SQLAlchemyError
from urllib3.exceptions import HTTPError as TransportError

from notifier import metrics
from notifier.intake import happened_at
from notifier.key_frames import KeyFrames
from notifier.mail import SmtpSender, alert_email
from notifier.message import Alert, AlertKind, MotionSummary
from notifier.push import PushSender
from notifier.rules import RuleTable
from notifier.stored_frames import StoredFrames
from notifier.webhooks import Attempt, Outcome, WebhookSender, retry_delay
from sensr.activity import EventRecord, RecordType, decode_activity_record
from sensr.alert_rules import AlertRule, Channel
from sensr.cameras import CameraTable
from sensr.deliveries import Delivery, DeliveryLog, DeliveryState
from sensr.frames import now_us
from sensr.logs import get_logger

log = get_logger(__name__)
RULE_WAIT = timedelta(minutes=10)
"""How long a delivery waits for its rule to reach this replica's table (a test alert
of a rule created a moment ago) before it fails as "rule removed"."""
KEY_FRAME_WAIT = timedelta(minutes=2)
"""How long a motion alert waits for its key frame to be stored before it goes without."""
KEY_FRAME_QUICK_WAIT = 10.0
"""Seconds from a delivery's creation during which its send awaits (in its send slot) the
catalog's announcement of a key frame not stored yet; after that it is postponed, and
later tries only look in the index, so a frame that never comes holds no slot for long."""
_POSTPONE_SECONDS = 1.0


class _NotYet(Exception):
    """The delivery cannot be rendered yet; try again shortly without counting an attempt."""


@dataclass(frozen=True, slots=True)
class Channels:
    email: SmtpSender | None
    """None when no SMTP server is configured."""
    sender_address: str
    webhooks: WebhookSender
    push: PushSender


class Dispatcher:
    def __init__(self, deliveries: DeliveryLog, rules: RuleTable, cameras: CameraTable, key_frames: KeyFrames,
                 stored: StoredFrames, channels: Channels, base_url: str, first_retry: float,
                 clock: Callable[[], int] = now_us, rng: random.Random | None = None) -> None:
        self._log = deliveries
        self._rules = rules
        self._cameras = cameras
        self._key_frames = key_frames
        self._stored = stored
        self._channels = channels
        self._base_url = base_url
        self._first_retry = first_retry
        self._clock = clock
        self._rng = rng or random.Random()

    async def send(self, delivery: Delivery) -> None:
        """Send a delivery this replica holds and record the outcome. Never raises for a
        receiver's or a dependency's fault (a failure to record leaves the row to be
        claimed again once its lease ends)."""
        try:
            await self._send(delivery)
        except SQLAlchemyError as error:
            log.warning("delivery_not_recorded", delivery=delivery.delivery_id, error=str(error).splitlines()[0])

    async def _send(self, delivery: Delivery) -> None:
        rule = self._rules.rule(delivery.rule_id)
        now = self._clock()
        if rule is None:
            if now - delivery.created_us < RULE_WAIT.total_seconds() * 1e6:
                await self._postpone(delivery, "rule not known to the notifier yet")
            else:
                await asyncio.to_thread(self._log.record_attempt, delivery.delivery_id, state=DeliveryState.FAILED,
                                        status=None, error="the rule was removed", now_us=now)
            return
        try:
            alert = await self._alert(delivery, rule)
        except _NotYet as wait:
            await self._postpone(delivery, str(wait))
            return
        started = time.monotonic()
        with metrics.IN_FLIGHT.track_inprogress():
            attempt = await self._attempt(rule, delivery, alert)
        metrics.SEND_SECONDS.labels(delivery.channel).observe(time.monotonic() - started)
        metrics.ATTEMPTS.labels(delivery.channel, attempt.outcome.value).inc()
        await asyncio.to_thread(self._record, delivery, attempt)

    async def _postpone(self, delivery: Delivery, reason: str) -> None:
        now = self._clock()
        await asyncio.to_thread(self._log.postpone, delivery.delivery_id, reason=reason, now_us=now,
                                next_attempt_us=now + int(_POSTPONE_SECONDS * 1e6))

    def _record(self, delivery: Delivery, attempt: Attempt) -> None:
        now = self._clock()
        state, next_at = DeliveryState.FAILED, None
        if attempt.outcome is Outcome.DELIVERED:
            state = DeliveryState.DELIVERED
        elif attempt.outcome is Outcome.RETRY:
            first = delivery.first_attempt_us or now
            pause = retry_delay(attempt, delivery.attempts + 1, _at(first), _at(now), self._rng, self._first_retry)
            if pause is not None:
                state, next_at = DeliveryState.PENDING, now + int(pause * 1e6)
        self._log.record_attempt(delivery.delivery_id, state=state, status=attempt.status, error=attempt.error,
                                 now_us=now, next_attempt_us=next_at)
        log.info("delivery_attempt", delivery=delivery.delivery_id, rule=delivery.rule_id, channel=delivery.channel,
                 kind=delivery.kind, outcome=attempt.outcome.value, status=attempt.status, error=attempt.error,
                 attempts=delivery.attempts + 1, state=str(state))

    async def _attempt(self, rule: AlertRule, delivery: Delivery, alert: Alert) -> Attempt:
        channels = self._channels
        if rule.channel is Channel.WEBHOOK:
            return await channels.webhooks.deliver(rule.target, rule.secret or "", delivery.delivery_id, alert)
        if rule.channel is Channel.PUSH:
            result = await channels.push.send(rule.target, alert)
            if result.delivered:
                return Attempt(Outcome.DELIVERED)
            return Attempt(Outcome.FAILED if result.refused else Outcome.RETRY, error=result.error)
        if channels.email is None:
            return Attempt(Outcome.FAILED, error="e-mail alerts are off: no SMTP server (SENSR_SMTP_HOST)")
        try:
            await channels.email.send(alert_email(alert, channels.sender_address, rule.target))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as refused:
            return Attempt(Outcome.FAILED, error=f"the SMTP server refused the message: {refused}")
        except smtplib.SMTPResponseException as answer:
            outcome = Outcome.FAILED if 500 <= answer.smtp_code < 600 else Outcome.RETRY
            return Attempt(outcome, status=answer.smtp_code, error=f"SMTP {answer.smtp_code}: {answer.smtp_error!r}")
        except (smtplib.SMTPException, OSError) as error:
            return Attempt(Outcome.RETRY, error=f"SMTP server unreachable: {error}")
        return Attempt(Outcome.DELIVERED, status=250)

    async def _alert(self, delivery: Delivery, rule: AlertRule) -> Alert:
        """The alert a delivery tells, with its key frame (raises _NotYet while it is awaited)."""
        kind = AlertKind(delivery.kind)
        camera_link = f"{self._base_url}/cameras/{rule.camera_id}"
        login = self._cameras.get(rule.camera)
        name = (login.name if login is not None else "") or rule.camera_name  # sensr.cameras has the latest name
        common = {"camera_id": rule.camera_id, "camera_name": name, "time_zone": rule.zone}
        if delivery.record is None:  # a test alert
            return Alert(kind=kind, at=_at(delivery.created_us), link=camera_link, **common)
        record = decode_activity_record(None, delivery.record.encode())
        if not isinstance(record, EventRecord):
            return Alert(kind=kind, at=happened_at(record), link=camera_link, **common)
        event = record.event
        link = f"{camera_link}/frames/{event.key_frame_id}"
        summary = None
        if record.type is RecordType.EVENT_END:
            summary = MotionSummary(duration=timedelta(microseconds=event.end_us - event.start_us),
                                    frames=event.frame_count, peak=event.peak_score)
        # A webhook carries the link, not the picture: it need not wait for the frame's storing.
        key_frame = None if rule.channel is Channel.WEBHOOK else await self._key_frame(delivery, rule, event.key_frame_id)
        return Alert(kind=kind, at=happened_at(record), link=link, event_id=event.event_id,
                     key_frame=key_frame, summary=summary, **common)

    async def _key_frame(self, delivery: Delivery, rule: AlertRule, frame_id: str) -> bytes | None:
        """The key frame's bytes. The activity worker may announce an event a moment before
        the catalog worker has stored its key frame: then await the frame's announcement
        on `sensr.catalog` (`notifier.stored_frames`) until `KEY_FRAME_QUICK_WAIT` after
        the delivery's creation, and postpone the delivery if it has not come (for up to
        `KEY_FRAME_WAIT`, then the alert goes without)."""
        budget = KEY_FRAME_QUICK_WAIT - (self._clock() - delivery.created_us) / 1e6
        try:
            with self._stored.watch(frame_id) as stored:
                frame = await asyncio.to_thread(self._key_frames.read, rule.camera, frame_id)
                if frame is None and budget > 0:
                    try:
                        with metrics.KEY_FRAMES_AWAITED.track_inprogress():
                            await asyncio.wait_for(stored.wait(), budget)
                    except TimeoutError:
                        metrics.KEY_FRAME_WAITS.labels("timed_out").inc()
                    else:
                        metrics.KEY_FRAME_WAITS.labels("announced").inc()
                        frame = await asyncio.to_thread(self._key_frames.read, rule.camera, frame_id)
        except (S3Error, TransportError, KafkaError) as error:
            raise _NotYet(f"the key frame could not be read: {error}") from None
        if frame is None and self._clock() - delivery.created_us < KEY_FRAME_WAIT.total_seconds() * 1e6:
            raise _NotYet("the key frame is not stored yet")
        return frame


def _at(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, tz=timezone.utc)
