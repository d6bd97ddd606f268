"""The notifier as a service (`python -m notifier`) against the real Kafka, SeaweedFS and
index database, with real receivers: an SMTP server (aiosmtpd), a Tornado webhook
receiver verifying signatures, an Apprise `json://` receiver. Activity records are
produced to `sensr.activity` by the test, as the activity worker would."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sensr.alert_rules import AlertRule, Channel
from sensr.deliveries import DeliveryLog, DeliveryState
from sensr.index import FrameIndex
from notifier.webhooks import new_secret
from tests.support.alert_receivers import Hook, HttpReceivers, Mailbox, jpeg_parts
from tests.support.catalog_worker import Worker, s3_client
from tests.support.notifier import key_frame
from tests.support.notifier_stack import event_end, event_start, presence, produce_activity, set_rules, store_frame
from workload.waiting import eventually


def rule(camera: str, n: int, channel: Channel, target: str, **fields: object) -> AlertRule:
    return AlertRule(rule_id=f"{camera}-r{n}", camera=camera, camera_id=f"id-{camera}", camera_name="Front door",
                     channel=channel, target=target, time_zone="Europe/Berlin", **fields)  # type: ignore[arg-type]


def webhook_rule(camera: str, n: int, receivers: HttpReceivers, answers: list[int] | None = None,
                 **fields: object) -> tuple[AlertRule, Hook]:
    hook = receivers.hooks[f"{camera}-{n}"] = Hook(new_secret(), answers=list(answers or []))
    return rule(camera, n, Channel.WEBHOOK, receivers.hook_url(f"{camera}-{n}"), secret=hook.secret, **fields), hook


def test_a_motion_start_reaches_every_channel_once_with_the_key_frame(
        notifier_env: dict[str, str], notifiers: Callable[..., Worker], mailbox: tuple[Mailbox, int],
        receivers: HttpReceivers, delivery_index: FrameIndex, unique_name: str, kafka_bootstrap: str) -> None:
    camera, (inbox, _port) = unique_name, mailbox
    jpeg = key_frame()
    frame_id = store_frame(delivery_index, s3_client(notifier_env), notifier_env["SENSR_S3_BUCKET"], camera, jpeg)
    hooked, hook = webhook_rule(camera, 2, receivers)
    set_rules(kafka_bootstrap, camera, [rule(camera, 1, Channel.EMAIL, "owner@example.org", on_offline=True),
                                        hooked, rule(camera, 3, Channel.PUSH, receivers.push_url())])
    notifiers(notifier_env)
    start = event_start(camera, frame_id)
    produce_activity(kafka_bootstrap, [start])

    motion = eventually(lambda: inbox.with_subject("Front door: motion at"), 60, what="no motion e-mail")
    assert jpeg_parts(motion[0]) == [jpeg]
    assert f"https://sensr.example/cameras/id-{camera}/frames/{frame_id}" in motion[0].get_body(("plain",)).get_content()
    eventually(lambda: hook.received and receivers.pushes, 30, what="no webhook or push")
    assert hook.received[0]["verified"] is True
    assert hook.received[0]["body"]["type"] == "motion.start"  # type: ignore[index]
    assert receivers.pushes[0]["title"].startswith("Front door: motion at")  # type: ignore[union-attr]

    # The same record again (a redelivery), then an offline record of the same camera (same
    # partition, so read after it): once the offline e-mail is in, the repeat was read too.
    produce_activity(kafka_bootstrap, [start, presence(camera, online=False)])
    eventually(lambda: inbox.with_subject("no frames since"), 60, what="no offline e-mail")
    assert len(inbox.with_subject("motion at")) == 1
    eventually(lambda: len(hook.received) == 2 and len(receivers.pushes) == 2, 30, what="no offline webhook or push")
    assert [request["body"]["type"] for request in hook.received] == ["motion.start", "camera.offline"]  # type: ignore[index]
    assert sum("motion at" in str(push["title"]) for push in receivers.pushes) == 1
    log = DeliveryLog(delivery_index.engine)
    states = sorted((d.channel, d.state) for d in log.for_record(start.record_id))
    assert states == [("email", DeliveryState.DELIVERED), ("push", DeliveryState.DELIVERED),
                      ("webhook", DeliveryState.DELIVERED)]
