"""From activity records to deliveries: which rules a record concerns, and what to do.

A record of a camera that is deleted or disabled (as `sensr.cameras` says) alarms nobody.
For each record of a camera and each of its rules that wants that kind of record, one
delivery is recorded: pending (to send now, leased to this replica), or skipped with the
reason (quiet hours; a motion alert too soon after the rule's last one). Recording is
idempotent (`sensr.deliveries`), so the same record read again adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from notifier.message import AlertKind
from notifier.rules import RuleTable
from sensr.activity import ActivityRecord, EventRecord, RecordType, activity_key
from sensr.alert_rules import AlertRule
from sensr.cameras import CameraTable
from sensr.deliveries import Delivery, DeliveryLog, new_delivery
from sensr.frames import timestamp_to_datetime

KIND_OF = {RecordType.EVENT_START: AlertKind.MOTION_START, RecordType.EVENT_END: AlertKind.MOTION_END,
           RecordType.CAMERA_OFFLINE: AlertKind.OFFLINE, RecordType.CAMERA_ONLINE: AlertKind.ONLINE}
SPACED_KINDS = (AlertKind.MOTION_START.value,)
"""Only motion starts are spaced out: an event's end summary, an offline or an online
alert is always told."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """A decoded record with its raw value (kept in the delivery, to render it later)."""

    record: ActivityRecord
    value: bytes


def happened_at(record: ActivityRecord) -> datetime:
    """When what the record tells happened (for quiet hours and the alert's time)."""
    if isinstance(record, EventRecord):
        us = record.event.end_us if record.type is RecordType.EVENT_END else record.event.start_us
    else:
        us = record.at_us if not record.online else record.last_frame_us
    return timestamp_to_datetime(us).astimezone(timezone.utc)


class Intake:
    def __init__(self, rules: RuleTable, cameras: CameraTable, log: DeliveryLog, lease_seconds: float,
                 now_us: Callable[[], int]) -> None:
        self._rules = rules
        self._cameras = cameras
        self._log = log
        self._lease_us = int(lease_seconds * 1_000_000)
        self._now_us = now_us

    def take(self, batch: Sequence[Incoming]) -> list[Delivery]:
        """Record the deliveries of `batch` (in order); return the new pending ones, which
        the caller holds and must send. Blocks (database); raises SQLAlchemy's errors."""
        held: list[Delivery] = []
        for incoming in batch:
            camera = activity_key(incoming.record).decode()
            login = self._cameras.get(camera)
            if login is None or not login.enabled:
                continue
            for rule in self._rules.rules_for(camera):
                if rule.wants(incoming.record.type):
                    held.extend(delivery for delivery in self._log.add([self._delivery(rule, incoming)])
                                if delivery.next_attempt_us is not None)
        return held

    def _delivery(self, rule: AlertRule, incoming: Incoming) -> Delivery:
        record = incoming.record
        kind = KIND_OF[record.type]
        now = self._now_us()
        return new_delivery(rule_id=rule.rule_id, record_id=record.record_id, channel=str(rule.channel),
                            camera=rule.camera, camera_id=rule.camera_id, kind=kind.value,
                            record=incoming.value.decode(), now_us=now, lease_until_us=now + self._lease_us,
                            skipped_because=self._skip_reason(rule, kind, record, now))

    def _skip_reason(self, rule: AlertRule, kind: AlertKind, record: ActivityRecord, now_us: int) -> str | None:
        if rule.quiet_at(happened_at(record)):
            return f"quiet hours ({rule.quiet_start}–{rule.quiet_end} {rule.time_zone})"
        if kind.value in SPACED_KINDS and rule.spacing_seconds > 0:
            last = self._log.last_sent_us(rule.rule_id, SPACED_KINDS)
            if last is not None and now_us - last < rule.spacing_seconds * 1_000_000:
                return f"within {rule.spacing_seconds} s of the rule's previous motion alert"
        return None
