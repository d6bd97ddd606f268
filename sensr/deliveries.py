"""The alert delivery log: one row per (rule, activity record, channel), in the index
database (migration `0004_notifier` of the index's chain).

Written by the notifier, read by the api (the owner's delivery log; a test alert is a
row the api adds). The row is the notifier's once-only guarantee:

* A delivery is written (`pending`, leased to the replica that wrote it) *before* it is
  sent, and the activity record's offset is committed only after that write. The row
  is unique on (rule, record, channel): a redelivered record, or a second replica that
  reads it after a rebalance, adds nothing and so sends nothing.
* *After* each attempt the row records the outcome: `delivered`, `failed` (for good),
  or `pending` again with the time of the next attempt (a retry), plus the attempt
  count, the last status and error.
* A replica that dies between sending and recording leaves a `pending` row whose lease
  runs out; any replica then sends it again. So a crash gives at most one duplicate and
  never a loss. Claiming a row is one conditional UPDATE (lease still as read), so two
  replicas never both claim it, on SQLite or PostgreSQL alike.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from sensr.database import writer
from sensr.index import metadata

DELIVERIES = sa.Table(
    "alert_deliveries", metadata,
    sa.Column("delivery_id", sa.String(), primary_key=True),
    sa.Column("rule_id", sa.String(), nullable=False),
    sa.Column("record_id", sa.String(), nullable=False),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("camera", sa.String(), nullable=False),
    sa.Column("camera_id", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("record", sa.Text(), nullable=True),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_status", sa.Integer(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("updated_us", sa.BigInteger(), nullable=False),
    sa.Column("first_attempt_us", sa.BigInteger(), nullable=True),
    sa.Column("next_attempt_us", sa.BigInteger(), nullable=True),
    sa.Column("lease_until_us", sa.BigInteger(), nullable=True),
    sa.UniqueConstraint("rule_id", "record_id", "channel", name="alert_deliveries_once"),
    sa.Index("alert_deliveries_due", "state", "next_attempt_us"),
    sa.Index("alert_deliveries_camera", "camera_id", "created_us"),
    sa.Index("alert_deliveries_rule", "rule_id", "created_us"),
)
_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
TEST_ALERT = "test"
"""The `kind` of a test alert (the owner's button); other kinds are the alert kinds of
`notifier.message.AlertKind`, whose TEST is this."""


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not sent on purpose: quiet hours, or too soon after the rule's last motion alert."""


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    rule_id: str
    record_id: str
    channel: str
    camera: str
    camera_id: str
    kind: str
    """The alert kind (`notifier.message.AlertKind` value)."""
    record: str | None
    """The activity record's JSON value (None for a test alert)."""
    state: DeliveryState
    attempts: int
    last_status: int | None
    last_error: str | None
    created_us: int
    updated_us: int
    first_attempt_us: int | None
    next_attempt_us: int | None
    lease_until_us: int | None


def new_delivery(*, rule_id: str, record_id: str, channel: str, camera: str, camera_id: str, kind: str,
                 record: str | None, now_us: int, lease_until_us: int | None,
                 skipped_because: str | None = None) -> Delivery:
    """A delivery to add: pending (due now, leased until `lease_until_us`), or skipped."""
    state = DeliveryState.SKIPPED if skipped_because else DeliveryState.PENDING
    return Delivery(delivery_id=str(uuid.uuid4()), rule_id=rule_id, record_id=record_id, channel=channel,
                    camera=camera, camera_id=camera_id, kind=kind, record=record, state=state, attempts=0,
                    last_status=None, last_error=skipped_because, created_us=now_us, updated_us=now_us,
                    first_attempt_us=None, next_attempt_us=None if skipped_because else now_us,
                    lease_until_us=None if skipped_because else lease_until_us)


class DeliveryLog:
    """The `alert_deliveries` table on the index database's engine (`FrameIndex.engine`,
    whose migrations create it). Thread-safe; every method blocks."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._insert = _INSERT[engine.dialect.name]

    def add(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Insert the deliveries not recorded yet (same rule, record and channel); return
        those that were new, which the caller now holds (leased) and must send."""
        added = []
        with self._writer.begin() as conn:
            for delivery in deliveries:
                values = {field.name: getattr(delivery, field.name) for field in fields(Delivery)}
                values["state"] = str(delivery.state)
                inserted = conn.execute(self._insert(DELIVERIES).values(values).on_conflict_do_nothing()
                                        .returning(DELIVERIES.c.delivery_id)).first()
                if inserted is not None:  # (rowcount is not reliable for ON CONFLICT on every driver)
                    added.append(delivery)
        return added

    def last_sent_us(self, rule_id: str, kinds: Sequence[str]) -> int | None:
        """When the rule's latest delivery of one of `kinds` that was not skipped was made."""
        query = sa.select(sa.func.max(DELIVERIES.c.created_us)).where(
            DELIVERIES.c.rule_id == rule_id, DELIVERIES.c.kind.in_(list(kinds)),
            DELIVERIES.c.state != str(DeliveryState.SKIPPED))
        with self._engine.connect() as conn:
            return conn.execute(query).scalar()

    def claim_due(self, now_us: int, lease_until_us: int, limit: int, *, retries: bool | None = None) -> list[Delivery]:
        """Take up to `limit` pending deliveries that are due and not held by a live lease
        (a retry, or a send a crashed replica never recorded), leasing each to the caller.
        `retries`: only deliveries tried before (True), only ones never tried (False), or both."""
        due = (sa.select(DELIVERIES).where(
            DELIVERIES.c.state == str(DeliveryState.PENDING), DELIVERIES.c.next_attempt_us <= now_us,
            sa.or_(DELIVERIES.c.lease_until_us.is_(None), DELIVERIES.c.lease_until_us < now_us))
            .order_by(DELIVERIES.c.next_attempt_us).limit(limit))
        if retries is not None:
            due = due.where(DELIVERIES.c.attempts > 0 if retries else DELIVERIES.c.attempts == 0)
        with self._engine.connect() as conn:
            candidates = [_delivery(row) for row in conn.execute(due)]
        claimed = []
        for delivery in candidates:
            lease = DELIVERIES.c.lease_until_us
            held = lease.is_(None) if delivery.lease_until_us is None else lease == delivery.lease_until_us
            with self._writer.begin() as conn:
                taken = conn.execute(sa.update(DELIVERIES).where(
                    DELIVERIES.c.delivery_id == delivery.delivery_id,
                    DELIVERIES.c.state == str(DeliveryState.PENDING), held).values(lease_until_us=lease_until_us))
            if taken.rowcount == 1:
                claimed.append(delivery)
        return claimed

    def record_attempt(self, delivery_id: str, *, state: DeliveryState, status: int | None, error: str | None,
                       now_us: int, next_attempt_us: int | None = None) -> None:
        """Count one attempt and its outcome; `pending` with `next_attempt_us` schedules a retry.
        The lease ends."""
        with self._writer.begin() as conn:
            conn.execute(sa.update(DELIVERIES).where(DELIVERIES.c.delivery_id == delivery_id).values(
                state=str(state), attempts=DELIVERIES.c.attempts + 1, last_status=status, last_error=error,
                updated_us=now_us, next_attempt_us=next_attempt_us, lease_until_us=None,
                first_attempt_us=sa.func.coalesce(DELIVERIES.c.first_attempt_us, now_us)))

    def postpone(self, delivery_id: str, *, reason: str, now_us: int, next_attempt_us: int) -> None:
        """Try again at `next_attempt_us` without counting an attempt (nothing was sent:
        e.g. the rule is not known to this replica yet)."""
        with self._writer.begin() as conn:
            conn.execute(sa.update(DELIVERIES).where(DELIVERIES.c.delivery_id == delivery_id).values(
                last_error=reason, updated_us=now_us, next_attempt_us=next_attempt_us, lease_until_us=None))

    def get(self, delivery_id: str) -> Delivery | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(DELIVERIES).where(DELIVERIES.c.delivery_id == delivery_id)).first()
        return None if row is None else _delivery(row)

    def for_camera(self, camera_id: str, limit: int = 100) -> list[Delivery]:
        """A camera's deliveries, newest first."""
        query = (sa.select(DELIVERIES).where(DELIVERIES.c.camera_id == camera_id)
                 .order_by(DELIVERIES.c.created_us.desc(), DELIVERIES.c.delivery_id).limit(limit))
        with self._engine.connect() as conn:
            return [_delivery(row) for row in conn.execute(query)]

    def for_record(self, record_id: str) -> list[Delivery]:
        """Every delivery of one activity record (any rule, any channel)."""
        with self._engine.connect() as conn:
            return [_delivery(row) for row in conn.execute(
                sa.select(DELIVERIES).where(DELIVERIES.c.record_id == record_id))]


def _delivery(row: sa.Row[Any]) -> Delivery:
    values = {field.name: getattr(row, field.name) for field in fields(Delivery)}
    values["state"] = DeliveryState(values["state"])
    return Delivery(**values)
