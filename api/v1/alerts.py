"""Alert rules of a camera, its delivery log and test alerts: owner only (a share link or
a public camera opens none of it)."""

from __future__ import annotations

from functools import partial

from api.alerts import StoredRule
from api.times import format_instant
from api.v1.base import ApiHandler
from api.v1.models import AlertRuleCreate, AlertRuleList, AlertRuleOut, AlertRulePatch, DeliveryList, DeliveryOut
from sensr.alert_rules import Channel
from sensr.deliveries import Delivery


def rule_out(rule: StoredRule) -> AlertRuleOut:
    out = AlertRuleOut(id=rule.id, camera_id=rule.camera_id, channel=str(rule.channel), target=rule.target,
                       on_start=rule.on_start, on_end=rule.on_end, on_offline=rule.on_offline,
                       on_online=rule.on_online, quiet_start=rule.quiet_start, quiet_end=rule.quiet_end,
                       time_zone=rule.time_zone, spacing_seconds=rule.spacing_seconds,
                       created=format_instant(rule.created_us))
    return out.model_copy(update={"secret": rule.secret}) if rule.channel is Channel.WEBHOOK else out


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(id=delivery.delivery_id, rule_id=delivery.rule_id, channel=delivery.channel,
                       kind=delivery.kind, record_id=delivery.record_id, state=str(delivery.state),
                       attempts=delivery.attempts, last_status=delivery.last_status, last_error=delivery.last_error,
                       created=format_instant(delivery.created_us), updated=format_instant(delivery.updated_us),
                       next_attempt=(format_instant(delivery.next_attempt_us)
                                     if delivery.state == "pending" and delivery.next_attempt_us else None))


class AlertRulesHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        rules = await self.services.run(self.services.alerts.of_camera, camera)
        self.send_json(AlertRuleList(rules=[rule_out(rule) for rule in rules]))

    async def post(self, camera_id: str) -> None:
        """A new rule; the notifier has it when this answers."""
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        body = self.body_as(AlertRuleCreate)
        rule = await self.services.run(partial(self.services.alerts.create, camera, **body.model_dump()))
        self.set_header("Location", f"/api/v1/cameras/{camera.id}/alerts/{rule.id}")
        self.send_json(rule_out(rule), status=201)


class AlertRuleHandler(ApiHandler):
    async def get(self, camera_id: str, rule_id: str) -> None:
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        self.send_json(rule_out(await self.services.run(self.services.alerts.get, camera, rule_id)))

    async def patch(self, camera_id: str, rule_id: str) -> None:
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        changes = self.body_as(AlertRulePatch).changes()
        rule = await self.services.run(partial(self.services.alerts.update, camera, rule_id, **changes))
        self.send_json(rule_out(rule))

    async def delete(self, camera_id: str, rule_id: str) -> None:
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        await self.services.run(self.services.alerts.delete, camera, rule_id)
        self.send_no_content()


class TestAlertHandler(ApiHandler):
    async def post(self, camera_id: str, rule_id: str) -> None:
        """Queue a test alert over the rule's channel; its delivery shows in the log."""
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        delivery = await self.services.run(self.services.alerts.send_test, camera, rule_id)
        self.send_json(delivery_out(delivery), status=202)


class DeliveriesHandler(ApiHandler):
    async def get(self, camera_id: str) -> None:
        """The camera's latest deliveries, newest first."""
        camera = await self.services.run(self.services.access.owned, camera_id, self.caller)
        limit = self.int_argument("limit", 100, 1, 1000)
        deliveries = await self.services.run(self.services.alerts.deliveries, camera, limit)
        self.send_json(DeliveryList(deliveries=[delivery_out(delivery) for delivery in deliveries]))
