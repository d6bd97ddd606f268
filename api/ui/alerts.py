"""The owner's alert page of a camera: its rules (add, delete, send a test alert), and the
delivery log with each delivery's last error. Every change goes through
`AlertRuleService`, so the notifier has it before the page answers."""

from __future__ import annotations

from functools import partial
from typing import Any

from api.alerts import StoredRule
from api.cameras import Camera
from api.errors import InvalidInput
from api.ui.base import PageHandler
from sensr.alert_rules import DEFAULT_SPACING_SECONDS

TRIGGERS = (("on_start", "Motion starts (with the key frame)"), ("on_end", "Motion ends (with a summary)"),
            ("on_offline", "Camera goes offline"), ("on_online", "Camera is back online"))
CHANNELS = (("email", "E-mail address"), ("webhook", "Webhook URL (signed, Standard Webhooks)"),
            ("push", "Push service (Apprise URL: ntfy://, tgram://, pover://, slack://...)"))
LOG_ENTRIES = 50


class AlertsPage(PageHandler):
    async def get(self, camera_id: str) -> None:
        camera = await self.owned_camera(camera_id)
        await self._page(camera)

    async def post(self, camera_id: str) -> None:
        """Add a rule from the form."""
        camera = await self.owned_camera(camera_id)
        form = self._form()
        quiet = {"quiet_start": form["quiet_start"] or None, "quiet_end": form["quiet_end"] or None}
        try:
            spacing = int(form["spacing_minutes"] or DEFAULT_SPACING_SECONDS // 60) * 60
        except ValueError:
            spacing = -1  # refused by the service with its own message
        create = partial(self.services.alerts.create, camera, form["channel"], form["target"],
                         time_zone=form["time_zone"] or "UTC", spacing_seconds=spacing, **quiet,
                         **{name: self.get_body_argument(name, None) is not None for name, _ in TRIGGERS})
        try:
            await self.services.run(create)
        except InvalidInput as error:
            self.set_status(error.status)
            await self._page(camera, error=error.message, form=form)
            return
        self.redirect(f"/cameras/{camera.id}/alerts?done=alert-added")

    def _form(self) -> dict[str, Any]:
        fields = ("channel", "target", "quiet_start", "quiet_end", "time_zone", "spacing_minutes")
        form: dict[str, Any] = {name: self.get_body_argument(name, "").strip() for name in fields}
        form.update({name: self.get_body_argument(name, None) is not None for name, _ in TRIGGERS})
        return form

    async def _page(self, camera: Camera, error: str | None = None, form: dict[str, Any] | None = None) -> None:
        rules = await self.services.run(self.services.alerts.of_camera, camera)
        log = await self.services.run(self.services.alerts.deliveries, camera, LOG_ENTRIES)
        blank = {"channel": "email", "target": "", "quiet_start": "", "quiet_end": "", "time_zone": "",
                 "spacing_minutes": str(DEFAULT_SPACING_SECONDS // 60), "on_start": True, "on_end": False,
                 "on_offline": True, "on_online": True}
        self.render("alerts.html", title=f"Alerts · {camera.name}", camera=camera, rules=rules, log=log,
                    rule_names={rule.id: describe(rule) for rule in rules}, error=error, form=form or blank,
                    triggers=TRIGGERS, channels=CHANNELS, owner=True, tab="alerts")


class RuleAction(PageHandler):
    """`POST .../alerts/<rule>/test` sends a test alert; `.../delete` removes the rule."""

    async def post(self, camera_id: str, rule_id: str, action: str) -> None:
        camera = await self.owned_camera(camera_id)
        if action == "test":
            await self.services.run(self.services.alerts.send_test, camera, rule_id)
            self.redirect(f"/cameras/{camera.id}/alerts?done=alert-test")
            return
        await self.services.run(self.services.alerts.delete, camera, rule_id)
        self.redirect(f"/cameras/{camera.id}/alerts?done=alert-deleted")


def describe(rule: StoredRule) -> str:
    """`"e-mail to owner@example.org"`, for the rule list and the delivery log."""
    what = {"email": "E-mail to", "webhook": "Webhook to", "push": "Push via"}[str(rule.channel)]
    return f"{what} {rule.target}"
