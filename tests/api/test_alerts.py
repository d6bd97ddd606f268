"""Alert rules through the api, once with SQLite and once with PostgreSQL: the owner
sets them (validated), they reach `sensr.alert-rules`, nobody else sees or sets them
(other users, share-link holders, viewers of a public camera), and a test alert goes
through a real notifier to a real SMTP server and a real webhook receiver, the
delivery log showing the outcome."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kafka import TopicPartition

from launcher.services import launch, service
from infra.process import ManagedProcess, free_port
from sensr.alert_rules import decode_rules
from launcher.service_stack import start_group_at_end
from sensr.broker import ACTIVITY, ALERT_RULES, make_consumer
from sensr.settings import CoreSettings, KafkaSettings
from tests.support.alert_receivers import HttpReceivers, Hook, Mailbox
from tests.support.api import ApiStack, create_camera, sign_up
from tests.support.harness import eventually

EMAIL_RULE = {"channel": "email", "target": "owner@example.org", "on_end": True, "quiet_start": "22:00",
              "quiet_end": "07:00", "time_zone": "Europe/Berlin"}


def published_rules(bootstrap: str, username: str) -> list[dict[str, object]] | None:
    """The latest rule set of `username` on sensr.alert-rules (None: none, or a tombstone)."""
    consumer = make_consumer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap), group_id=None)
    try:
        partition = TopicPartition(ALERT_RULES, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        latest: list[dict[str, object]] | None = None
        while consumer.position(partition) < end:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.key == username.encode():
                        latest = [{"id": rule.rule_id, "target": rule.target, "secret": rule.secret}
                                  for rule in decode_rules(record.value)] or None
        return latest
    finally:
        consumer.close()


def test_the_owner_sets_rules_and_they_reach_the_topic(api_stack: ApiStack, kafka_bootstrap: str) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    alerts = api_stack.api(f"/cameras/{camera['id']}/alerts")
    created = owner.session.post(alerts, json=EMAIL_RULE, timeout=30)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["target"] == "owner@example.org" and "secret" not in rule and rule["spacing_seconds"] == 300
    hook = owner.session.post(alerts, json={"channel": "webhook", "target": "https://example.org/hook"}, timeout=30)
    assert hook.status_code == 201 and hook.json()["secret"].startswith("whsec_")
    assert [r["id"] for r in owner.session.get(alerts, timeout=30).json()["rules"]] == [rule["id"], hook.json()["id"]]
    assert published_rules(kafka_bootstrap, camera["username"]) == [
        {"id": rule["id"], "target": "owner@example.org", "secret": None},
        {"id": hook.json()["id"], "target": "https://example.org/hook", "secret": hook.json()["secret"]}]

    changed = owner.session.patch(f"{alerts}/{rule['id']}", json={"target": "other@example.org", "quiet_start": None,
                                                                    "quiet_end": None}, timeout=30)
    assert changed.status_code == 200 and changed.json()["quiet_start"] is None
    assert owner.session.delete(f"{alerts}/{hook.json()['id']}", timeout=30).status_code == 204
    assert published_rules(kafka_bootstrap, camera["username"]) == [
        {"id": rule["id"], "target": "other@example.org", "secret": None}]
    assert owner.session.delete(f"{alerts}/{rule['id']}", timeout=30).status_code == 204
    assert published_rules(kafka_bootstrap, camera["username"]) is None  # the tombstone


@pytest.mark.parametrize("body, complaint", [
    ({"channel": "sms", "target": "+4930123"}, "channel"),
    ({"channel": "email", "target": "not an address"}, "e-mail address"),
    ({"channel": "webhook", "target": "ftp://example.org/"}, "http"),
    ({"channel": "push", "target": "nonsense://x"}, "Apprise"),
    ({**EMAIL_RULE, "quiet_end": None}, "go together"),
    ({**EMAIL_RULE, "quiet_start": "25:00"}, "HH:MM"),
    ({**EMAIL_RULE, "time_zone": "Mars/Olympus"}, "time zone"),
    ({**EMAIL_RULE, "spacing_seconds": -1}, "spacing_seconds"),
])
def test_invalid_rules_are_refused(api_stack: ApiStack, body: dict[str, object], complaint: str) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    answer = owner.session.post(api_stack.api(f"/cameras/{camera['id']}/alerts"), json=body, timeout=30)
    assert answer.status_code == 400 and complaint in answer.json()["message"], answer.text


def test_only_the_owner_sees_or_sets_rules(api_stack: ApiStack) -> None:
    owner, stranger = sign_up(api_stack), sign_up(api_stack)
    camera = create_camera(api_stack, owner, public=True)
    alerts = api_stack.api(f"/cameras/{camera['id']}/alerts")
    rule = owner.session.post(alerts, json=EMAIL_RULE, timeout=30).json()
    share = owner.session.post(api_stack.api(f"/cameras/{camera['id']}/shares"), json={}, timeout=30).json()
    viewers = {"anonymous": requests.Session(), "stranger": stranger.session, "share": requests.Session()}
    viewers["share"].headers["X-Sensr-Share"] = share["token"]
    for who, session in viewers.items():
        for method, url in (("get", alerts), ("post", alerts), ("get", f"{alerts}/{rule['id']}"),
                            ("patch", f"{alerts}/{rule['id']}"), ("delete", f"{alerts}/{rule['id']}"),
                            ("post", f"{alerts}/{rule['id']}/test"), ("get", f"{alerts}/deliveries")):
            answer = session.request(method, url, json=EMAIL_RULE if method == "post" else {}, timeout=30)
            assert answer.status_code in (401, 403), (who, method, url, answer.status_code)
            assert "owner@example.org" not in answer.text
    assert len(owner.session.get(alerts, timeout=30).json()["rules"]) == 1


@pytest.fixture
def notifier(api_stack: ApiStack, mailbox: tuple[Mailbox, int], tmp_path: Path, kafka_bootstrap: str,
             unique_name: str) -> Iterator[ManagedProcess]:
    """A notifier beside the module's api, sending e-mail to the test's SMTP server; its
    consumer group starts at the end of sensr.activity (earlier records are other tests')."""
    group = f"notifier-{unique_name}"
    start_group_at_end(kafka_bootstrap, group, ACTIVITY)
    env = dict(api_stack.env, SENSR_NOTIFIER_GROUP_ID=group, SENSR_SMTP_HOST="127.0.0.1", SENSR_SMTP_PORT=str(mailbox[1]),
               SENSR_SMTP_SECURITY="plain", SENSR_NOTIFIER_ALLOWED_NETWORKS="127.0.0.0/8",
               SENSR_NOTIFIER_POLL_SECONDS="0.2", SENSR_NOTIFIER_OPS_PORT=str(free_port()))
    process = launch(service("notifier"), env, tmp_path / "notifier.log", timeout=60)
    yield process
    process.stop()


def test_a_test_alert_arrives_and_shows_in_the_delivery_log(
        api_stack: ApiStack, notifier: ManagedProcess, mailbox: tuple[Mailbox, int], receivers: HttpReceivers) -> None:
    inbox = mailbox[0]
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner, name="Garden gate")
    alerts = api_stack.api(f"/cameras/{camera['id']}/alerts")
    mail_rule = owner.session.post(alerts, json=EMAIL_RULE, timeout=30).json()
    hook_rule = owner.session.post(alerts, json={"channel": "webhook", "target": receivers.hook_url("gate")},
                                   timeout=30).json()
    receivers.hooks["gate"] = hook = Hook(hook_rule["secret"])  # the secret the owner was shown

    for rule in (mail_rule, hook_rule):
        queued = owner.session.post(f"{alerts}/{rule['id']}/test", timeout=30)
        assert queued.status_code == 202 and queued.json()["kind"] == "test", queued.text
    mail = eventually(lambda: inbox.with_subject("Garden gate: test alert at"), 60, what="no test e-mail")
    assert mail[0]["To"] == "owner@example.org"
    eventually(lambda: hook.received, 30, what="no test webhook")
    assert hook.received[0]["verified"] is True and hook.received[0]["body"]["type"] == "test"  # type: ignore[index]

    def delivered() -> list[dict[str, object]]:
        log = owner.session.get(f"{alerts}/deliveries", timeout=30).json()["deliveries"]
        return log if len(log) == 2 and all(entry["state"] == "delivered" for entry in log) else []

    log = eventually(delivered, 30, what="the log does not show both delivered")
    assert {entry["channel"]: entry["last_status"] for entry in log} == {"email": 250, "webhook": 200}
    assert all(entry["attempts"] == 1 and entry["last_error"] is None for entry in log)


def test_a_failed_test_alert_shows_its_error(api_stack: ApiStack, notifier: ManagedProcess) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner)
    alerts = api_stack.api(f"/cameras/{camera['id']}/alerts")
    rule = owner.session.post(alerts, json={"channel": "webhook", "target": "http://169.254.169.254/x"},
                              timeout=30).json()
    owner.session.post(f"{alerts}/{rule['id']}/test", timeout=30)

    def failed() -> list[dict[str, object]]:
        return [entry for entry in owner.session.get(f"{alerts}/deliveries", timeout=30).json()["deliveries"]
                if entry["state"] == "failed"]

    entry = eventually(failed, 60, what="no failed delivery")[0]
    assert "link-local" in str(entry["last_error"])
