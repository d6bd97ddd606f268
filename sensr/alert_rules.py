"""A camera's alert rules, as carried by the compacted `sensr.alert-rules` topic.

The api is the only writer: owners set rules through it (stored in its own database),
and after every change it publishes the camera's whole rule set as one record, key = the
camera username; a tombstone (null value) when the camera has no rules left. The
notifier materialises the topic in memory (`notifier.rules.RuleTable`), so it never
reads the api's database, exactly as the edges do with `sensr.cameras`.

The record carries what the notifier needs to address and word an alert: the channel
and its target, the webhook's signing secret (the topic is internal to the
installation, like the database the api keeps it in), the camera's id and name, the
triggers, quiet hours in the owner's time zone and the minimum spacing of alerts.

    {"v": 1, "camera": "cam28", "rules": [{"rule_id": "…", "camera_id": "…",
     "camera_name": "Front door", "channel": "webhook", "target": "https://…",
     "secret": "whsec_…", "on_start": true, "on_end": false, "on_offline": true,
     "on_online": true, "quiet_start": "22:00", "quiet_end": "07:00",
     "time_zone": "Europe/Berlin", "spacing_seconds": 300}]}
"""

from __future__ import annotations

import base64
import enum
import json
import re
import secrets
from dataclasses import asdict, dataclass, fields
from datetime import datetime, time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import apprise

from sensr.activity import RecordType
from sensr.broker import ALERT_RULES
from sensr.topic_json import decode_versioned

RULES_SCHEMA_VERSION = 1
DEFAULT_SPACING_SECONDS = 300
SECRET_PREFIX = "whsec_"
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


class AlertRuleError(ValueError):
    """A record on `sensr.alert-rules` that does not follow the contract."""


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    PUSH = "push"


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One rule: which of a camera's activity records to tell whom, and how."""

    rule_id: str
    camera: str
    """The camera username (the activity records' key)."""
    camera_id: str
    camera_name: str
    channel: Channel
    target: str
    """An e-mail address, a webhook URL or an Apprise URL, after `channel`."""
    secret: str | None = None
    """The webhook's Standard Webhooks signing secret (`whsec_…`)."""
    on_start: bool = True
    on_end: bool = False
    on_offline: bool = True
    on_online: bool = True
    quiet_start: str | None = None
    """`HH:MM` in `time_zone`: from then on until `quiet_end` nothing is sent."""
    quiet_end: str | None = None
    time_zone: str = "UTC"
    spacing_seconds: int = DEFAULT_SPACING_SECONDS
    """Least time between two motion alerts of this rule (a busy scene sends one, not a hundred)."""

    def wants(self, record_type: RecordType) -> bool:
        """Whether a record of `record_type` is one this rule alerts on."""
        return {RecordType.EVENT_START: self.on_start, RecordType.EVENT_END: self.on_end,
                RecordType.CAMERA_OFFLINE: self.on_offline, RecordType.CAMERA_ONLINE: self.on_online,
                }.get(record_type, False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def quiet_at(self, at: datetime) -> bool:
        """Whether the aware instant `at` falls in the quiet hours (a span may cross midnight)."""
        if not self.quiet_start or not self.quiet_end:
            return False
        clock = at.astimezone(self.zone).time()
        start, end = time.fromisoformat(self.quiet_start), time.fromisoformat(self.quiet_end)
        if start <= end:
            return start <= clock < end
        return clock >= start or clock < end


def new_secret() -> str:
    """A fresh per-rule webhook signing secret, `whsec_` + base64 of 32 random bytes (the
    Standard Webhooks specification asks for 24 to 64), shown to the owner to configure
    the receiver."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def target_problem(channel: Channel, target: str) -> str | None:
    """What is wrong with `target` as the address of a `channel` rule, or None: an e-mail
    address, an http(s) URL, or a URL Apprise knows (whether the notifier may reach it
    is the egress guard's call, when it sends)."""
    if channel is Channel.EMAIL and not _EMAIL.fullmatch(target):
        return "target must be an e-mail address for an email rule"
    if channel is Channel.WEBHOOK:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "target must be an http:// or https:// URL for a webhook rule"
    if channel is Channel.PUSH and apprise.Apprise.instantiate(target) is None:
        return "target must be a push-service URL Apprise can use (see https://appriseit.com/services/)"
    return None


def rules_key(camera: str) -> bytes:
    return camera.encode()


def rules_value(camera: str, rules: list[AlertRule]) -> bytes | None:
    """The record value for a camera's rules; None (a tombstone) when it has none."""
    if not rules:
        return None
    body = {"v": RULES_SCHEMA_VERSION, "camera": camera, "rules": [asdict(rule) for rule in rules]}
    return json.dumps(body, separators=(",", ":")).encode()


def decode_rules(value: bytes | None) -> list[AlertRule]:
    """The rules a record holds (none for a tombstone); raises AlertRuleError."""
    if value is None:
        return []
    body = decode_versioned(value, RULES_SCHEMA_VERSION, "alert rules", AlertRuleError)
    known = {field.name for field in fields(AlertRule)}
    try:
        rules = []
        for item in body["rules"]:
            rule: dict[str, Any] = {name: entry for name, entry in item.items() if name in known}
            rule["channel"] = Channel(rule["channel"])
            rules.append(AlertRule(**rule))
        return rules
    except (KeyError, TypeError, ValueError) as error:
        raise AlertRuleError(f"malformed alert rules: {error!r}") from None


def publish_rules(producer: Any, camera: str, rules: list[AlertRule], timeout: float = 10.0) -> None:
    """Write a camera's rule set to `sensr.alert-rules` and wait for the acknowledgement."""
    producer.send(ALERT_RULES, key=rules_key(camera), value=rules_value(camera, rules)).get(timeout=timeout)
