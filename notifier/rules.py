"""The alert rules as the notifier knows them: `sensr.alert-rules` materialised in memory.

The follow-from-the-start, `loaded` and `sync` machinery is `sensr.cameras.CameraTable`'s;
this table only keeps a different record per camera (its rule set).
"""

from __future__ import annotations

from sensr.alert_rules import AlertRule, AlertRuleError, decode_rules
from sensr.broker import ALERT_RULES
from sensr.cameras import CameraTable
from sensr.logs import get_logger

log = get_logger(__name__)


class RuleTable(CameraTable):
    """Each camera's alert rules (by camera username), and every rule by its id."""

    topic = ALERT_RULES

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._rules: dict[str, tuple[AlertRule, ...]] = {}
        self._by_id: dict[str, AlertRule] = {}

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Apply one record: the camera's whole rule set, or a tombstone (no rules)."""
        camera = key.decode()
        try:
            rules = tuple(decode_rules(value))
        except AlertRuleError as bad:
            log.warning("alert_rules_invalid", camera=camera, error=str(bad))
            return
        previous = self._rules.get(camera, ())
        by_id = dict(self._by_id)
        for rule in previous:
            by_id.pop(rule.rule_id, None)
        by_id.update((rule.rule_id, rule) for rule in rules)
        self._by_id = by_id  # swapped whole: readers on other threads see one state or the other
        if rules:
            self._rules[camera] = rules
        else:
            self._rules.pop(camera, None)

    def rules_for(self, camera: str) -> tuple[AlertRule, ...]:
        return self._rules.get(camera, ())

    def rule(self, rule_id: str) -> AlertRule | None:
        return self._by_id.get(rule_id)

    def __len__(self) -> int:
        return len(self._rules)
