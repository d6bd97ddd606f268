"""Alert rules of a camera (owner only), their delivery log, and test alerts.

Rules live in the api's table `api_alert_rules`. After every change the camera's whole
rule set is published to the compacted `sensr.alert-rules` topic (`sensr.alert_rules`)
inside the database transaction, which commits only once Kafka acknowledged, as camera
logins are: the notifier, which never reads the api's database, has the rules when the
answer comes. The delivery log and test alerts are rows of the notifier's
`alert_deliveries` table in the index database (`sensr.deliveries`): a test alert is a
pending delivery that any notifier replica picks up within a second.
Methods block (database, Kafka): call them from a worker thread.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from kafka.errors import KafkaError

from api.cameras import Camera
from api.db import ALERT_RULES, CAMERAS, Database, new_id
from api.errors import InvalidInput, NotFound, Unavailable
from sensr.alert_rules import DEFAULT_SPACING_SECONDS, AlertRule, Channel, new_secret, publish_rules, target_problem
from sensr.deliveries import TEST_ALERT, Delivery, DeliveryLog, new_delivery
from sensr.frames import now_us

MAX_RULES_PER_CAMERA = 20
MAX_TARGET_LENGTH = 2000
MAX_SPACING_SECONDS = 86_400
_CLOCK = re.compile(r"\d{2}:\d{2}")
_MUTABLE = ("target", "on_start", "on_end", "on_offline", "on_online", "quiet_start", "quiet_end", "time_zone",
            "spacing_seconds")


@dataclass(frozen=True, slots=True)
class StoredRule:
    id: str
    camera_id: str
    channel: Channel
    target: str
    secret: str | None
    on_start: bool
    on_end: bool
    on_offline: bool
    on_online: bool
    quiet_start: str | None
    quiet_end: str | None
    time_zone: str
    spacing_seconds: int
    created_us: int


def validate(rule: StoredRule) -> StoredRule:
    """The rule if every field is valid; raises InvalidInput naming the first that is not."""
    target = rule.target.strip()
    if not target or len(target) > MAX_TARGET_LENGTH:
        raise InvalidInput(f"target must be 1 to {MAX_TARGET_LENGTH} characters long")
    if problem := target_problem(rule.channel, target):
        raise InvalidInput(problem)
    if (rule.quiet_start is None) != (rule.quiet_end is None):
        raise InvalidInput("quiet_start and quiet_end go together (both HH:MM, or both null)")
    for name in ("quiet_start", "quiet_end"):
        clock = getattr(rule, name)
        if clock is not None:
            try:
                if not _CLOCK.fullmatch(clock):
                    raise ValueError(clock)
                time.fromisoformat(clock)
            except ValueError:
                raise InvalidInput(f"{name} must be a time of day as HH:MM") from None
    try:
        ZoneInfo(rule.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("time_zone must be an IANA time zone such as Europe/Berlin") from None
    if not 0 <= rule.spacing_seconds <= MAX_SPACING_SECONDS:
        raise InvalidInput(f"spacing_seconds must be between 0 and {MAX_SPACING_SECONDS}")
    return dataclasses.replace(rule, target=target)


class AlertRuleService:
    def __init__(self, db: Database, producer: Any, timeout: float, deliveries: DeliveryLog) -> None:
        self._db = db
        self._producer = producer
        self._timeout = timeout
        self._deliveries = deliveries

    def of_camera(self, camera: Camera) -> list[StoredRule]:
        with self._db.read() as conn:
            return self._rules(conn, camera.id)

    def get(self, camera: Camera, rule_id: str) -> StoredRule:
        for rule in self.of_camera(camera):
            if rule.id == rule_id:
                return rule
        raise NotFound("no such alert rule")

    def create(self, camera: Camera, channel: str, target: str, **fields: Any) -> StoredRule:
        """A new rule (a webhook rule gets a fresh signing secret); published when this returns."""
        try:
            kind = Channel(channel)
        except ValueError:
            raise InvalidInput("channel must be email, webhook or push") from None
        defaults = {"on_start": True, "on_end": False, "on_offline": True, "on_online": True, "quiet_start": None,
                    "quiet_end": None, "time_zone": "UTC", "spacing_seconds": DEFAULT_SPACING_SECONDS}
        rule = validate(StoredRule(id=new_id(), camera_id=camera.id, channel=kind, target=target,
                                   secret=new_secret() if kind is Channel.WEBHOOK else None,
                                   created_us=now_us(), **{**defaults, **fields}))
        with self._changing(camera) as conn:
            if len(self._rules(conn, camera.id)) >= MAX_RULES_PER_CAMERA:
                raise InvalidInput(f"a camera has at most {MAX_RULES_PER_CAMERA} alert rules")
            values = dataclasses.asdict(rule)
            values["channel"] = str(rule.channel)
            conn.execute(sa.insert(ALERT_RULES).values(values))
            self._publish(conn, camera)
        return rule

    def update(self, camera: Camera, rule_id: str, **changes: Any) -> StoredRule:
        unknown = set(changes) - set(_MUTABLE)
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
        with self._changing(camera) as conn:
            current = next((rule for rule in self._rules(conn, camera.id) if rule.id == rule_id), None)
            if current is None:
                raise NotFound("no such alert rule")
            updated = validate(dataclasses.replace(current, **changes))
            conn.execute(sa.update(ALERT_RULES).where(ALERT_RULES.c.id == rule_id).values(
                {name: getattr(updated, name) for name in _MUTABLE}))
            self._publish(conn, camera)
        return updated

    def delete(self, camera: Camera, rule_id: str) -> None:
        with self._changing(camera) as conn:
            gone = conn.execute(sa.delete(ALERT_RULES).where(ALERT_RULES.c.id == rule_id,
                                                             ALERT_RULES.c.camera_id == camera.id))
            if gone.rowcount == 0:
                raise NotFound("no such alert rule")
            self._publish(conn, camera)

    def send_test(self, camera: Camera, rule_id: str) -> Delivery:
        """Queue a test alert over the rule's channel; the delivery log shows how it went."""
        rule = self.get(camera, rule_id)
        delivery = new_delivery(rule_id=rule.id, record_id=f"test:{uuid.uuid4()}", channel=str(rule.channel),
                                camera=camera.username, camera_id=camera.id, kind=TEST_ALERT,
                                record=None, now_us=now_us(), lease_until_us=None)
        self._deliveries.add([delivery])
        return delivery

    def deliveries(self, camera: Camera, limit: int = 100) -> list[Delivery]:
        return self._deliveries.for_camera(camera.id, limit)

    # -- publishing --------------------------------------------------------------------

    @contextmanager
    def _changing(self, camera: Camera) -> Iterator[sa.Connection]:
        """A write transaction holding the camera's row, so one camera's rule sets reach
        the topic in the order they were written."""
        with self._db.write() as conn:
            conn.execute(sa.select(CAMERAS.c.id).where(CAMERAS.c.id == camera.id).with_for_update())
            yield conn

    def _publish(self, conn: sa.Connection, camera: Camera) -> None:
        rules = [AlertRule(rule_id=rule.id, camera=camera.username, camera_id=camera.id, camera_name=camera.name,
                           channel=rule.channel, target=rule.target, secret=rule.secret, on_start=rule.on_start,
                           on_end=rule.on_end, on_offline=rule.on_offline, on_online=rule.on_online,
                           quiet_start=rule.quiet_start, quiet_end=rule.quiet_end, time_zone=rule.time_zone,
                           spacing_seconds=rule.spacing_seconds) for rule in self._rules(conn, camera.id)]
        try:
            publish_rules(self._producer, camera.username, rules, timeout=self._timeout)
        except KafkaError as error:
            raise Unavailable(f"the notifier could not be told in time ({type(error).__name__}); "
                              "nothing was changed, try again") from error

    @staticmethod
    def _rules(conn: sa.Connection, camera_id: str) -> list[StoredRule]:
        query = (sa.select(ALERT_RULES).where(ALERT_RULES.c.camera_id == camera_id)
                 .order_by(ALERT_RULES.c.created_us, ALERT_RULES.c.id))
        rules = []
        for row in conn.execute(query):
            values = {field.name: getattr(row, field.name) for field in dataclasses.fields(StoredRule)}
            values["channel"] = Channel(values["channel"])
            rules.append(StoredRule(**values))
        return rules

