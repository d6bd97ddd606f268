"""The notifier as a service (`python -m notifier`) against the real Kafka, SeaweedFS and
index database, with real receivers: an SMTP server (aiosmtpd), a Tornado webhook
receiver verifying signatures, an Apprise `json://` receiver. Activity records are
produced to `sensr.activity` by the test, as the activity worker would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sensr.activity import FrameLocation
from sensr.alert_rules import AlertRule, Channel, new_secret
from sensr.deliveries import DeliveryLog, DeliveryState
from sensr.frames import new_frame_id, now_us
from sensr.index import FrameIndex
from tests.support.alert_receivers import Hook, HttpReceivers, Mailbox, jpeg_parts
from tests.support.catalog_worker import Worker, s3_client
from tests.support.notifier import key_frame
from tests.support.notifier_stack import (event_end, event_start, presence, produce_activity, publish_frame,
                                          set_rules, store_frame)
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
    camera, inbox = unique_name, mailbox[0]
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


def test_offline_then_online_sends_one_email_each_never_twice(
        notifier_env: dict[str, str], notifiers: Callable[..., Worker], mailbox: tuple[Mailbox, int],
        unique_name: str, kafka_bootstrap: str) -> None:
    camera, inbox = unique_name, mailbox[0]
    set_rules(kafka_bootstrap, camera, [rule(camera, 1, Channel.EMAIL, "owner@example.org")])
    notifiers(notifier_env)
    offline = presence(camera, online=False)
    produce_activity(kafka_bootstrap, [offline])
    eventually(lambda: inbox.with_subject("no frames since"), 60, what="no offline e-mail")
    online = presence(camera, online=True)
    produce_activity(kafka_bootstrap, [offline, online, online])  # the repeats are redeliveries
    eventually(lambda: inbox.with_subject("back online"), 60, what="no online e-mail")
    # A last record on the same partition: once its mail is in, every repeat has been read.
    sentinel = presence(camera, online=False)
    produce_activity(kafka_bootstrap, [offline, online, sentinel])
    eventually(lambda: len(inbox.with_subject("no frames since")) == 2, 60, what="no sentinel e-mail")
    assert len(inbox.with_subject("back online")) == 1
    assert len(inbox.messages) == 3


def test_a_failing_receiver_is_retried_until_it_takes_the_alert(
        notifier_env: dict[str, str], notifiers: Callable[..., Worker], receivers: HttpReceivers,
        delivery_index: FrameIndex, unique_name: str, kafka_bootstrap: str) -> None:
    """500 three times, then 200: one delivery, four attempts, the same webhook-id each time;
    another camera's alert is not held up meanwhile."""
    camera, other = unique_name, unique_name + "b"
    failing, hook = webhook_rule(camera, 1, receivers, answers=[500, 500, 500])
    fine, other_hook = webhook_rule(other, 1, receivers)
    set_rules(kafka_bootstrap, camera, [failing])
    set_rules(kafka_bootstrap, other, [fine])
    notifiers(notifier_env)
    offline = presence(camera, online=False)
    produce_activity(kafka_bootstrap, [offline, presence(other, online=False)])
    eventually(lambda: other_hook.received, 30, what="the other camera's alert")
    log = DeliveryLog(delivery_index.engine)
    delivered = eventually(lambda: [d for d in log.for_record(offline.record_id)
                                    if d.state is DeliveryState.DELIVERED], 60, what="no delivery")
    assert delivered[0].attempts == 4 and delivered[0].last_status == 200 and delivered[0].last_error is None
    assert len(hook.received) == 4 and len(set(hook.ids())) == 1


def test_a_4xx_answer_is_never_retried(notifier_env: dict[str, str], notifiers: Callable[..., Worker],
                                       receivers: HttpReceivers, delivery_index: FrameIndex, unique_name: str,
                                       kafka_bootstrap: str) -> None:
    camera = unique_name
    refusing, hook = webhook_rule(camera, 1, receivers, answers=[410])
    set_rules(kafka_bootstrap, camera, [refusing])
    notifiers(notifier_env)
    offline = presence(camera, online=False)
    produce_activity(kafka_bootstrap, [offline])
    log = DeliveryLog(delivery_index.engine)
    failed = eventually(lambda: [d for d in log.for_record(offline.record_id) if d.state is DeliveryState.FAILED],
                        60, what="no failed delivery")
    assert failed[0].attempts == 1 and failed[0].last_status == 410 and "410" in (failed[0].last_error or "")
    assert len(hook.received) == 1


def test_webhooks_to_private_addresses_are_refused_unless_allowed(
        notifier_env: dict[str, str], notifiers: Callable[..., Worker], delivery_index: FrameIndex,
        unique_name: str, kafka_bootstrap: str) -> None:
    camera = unique_name
    targets = {"http://127.0.0.1:9/hook": "loopback", "http://10.1.2.3/hook": "private",
               "http://169.254.169.254/latest/meta-data": "link-local", "http://localhost:9/hook": "loopback"}
    set_rules(kafka_bootstrap, camera, [rule(camera, n, Channel.WEBHOOK, url, secret=new_secret())
                                        for n, url in enumerate(targets)])
    notifiers(notifier_env, SENSR_NOTIFIER_ALLOWED_NETWORKS="")
    offline = presence(camera, online=False)
    produce_activity(kafka_bootstrap, [offline])
    log = DeliveryLog(delivery_index.engine)
    failed = eventually(lambda: len(done := [d for d in log.for_record(offline.record_id)
                                             if d.state is DeliveryState.FAILED]) == 4 and done, 60,
                        what=lambda: f"not all refused: {log.for_record(offline.record_id)}")
    errors = {d.rule_id: d.last_error or "" for d in failed}
    for n, reason in enumerate(targets.values()):
        assert f"a {reason} address" in errors[f"{camera}-r{n}"]
        assert "SENSR_NOTIFIER_ALLOWED_NETWORKS" in errors[f"{camera}-r{n}"]
    assert all(d.attempts == 1 for d in failed)


def test_a_notifier_killed_while_sending_loses_nothing_and_repeats_at_most_that_one(
        notifier_env: dict[str, str], notifiers: Callable[..., Worker], receivers: HttpReceivers,
        delivery_index: FrameIndex, unique_name: str, kafka_bootstrap: str) -> None:
    """The receiver holds the first call; the notifier is SIGKILLed while waiting for the
    answer. A second notifier sends that alert again once its lease ends (the one
    duplicate, with the same webhook-id) and every other alert once."""
    camera = unique_name
    hooked, hook = webhook_rule(camera, 1, receivers)
    hook.hold = threading.Event()
    set_rules(kafka_bootstrap, camera, [hooked])
    env = dict(notifier_env, SENSR_NOTIFIER_LEASE_SECONDS="3", SENSR_NOTIFIER_CONCURRENCY="1")
    first = notifiers(env)
    records = [presence(camera, online=n % 2 == 1) for n in range(6)]
    produce_activity(kafka_bootstrap, records)
    eventually(lambda: hook.received, 30, what="the first call")
    first.kill()
    hook.hold.set()
    notifiers(env)
    log = DeliveryLog(delivery_index.engine)
    eventually(lambda: all(d.state is DeliveryState.DELIVERED for r in records for d in log.for_record(r.record_id))
               and all(log.for_record(r.record_id) for r in records), 60, what="not all delivered")
    ids = hook.ids()
    assert set(ids) == {d.delivery_id for r in records for d in log.for_record(r.record_id)}  # none lost
    assert len(ids) - len(set(ids)) <= 1  # at most the one in flight twice


def test_two_replicas_send_each_alert_once(
        notifier_env: dict[str, str], notifiers: Callable[..., Worker], receivers: HttpReceivers,
        delivery_index: FrameIndex, unique_name: str, kafka_bootstrap: str) -> None:
    cameras = [f"{unique_name}c{n}" for n in range(12)]
    hooks = {}
    for camera in cameras:
        hooked, hooks[camera] = webhook_rule(camera, 1, receivers)
        set_rules(kafka_bootstrap, camera, [hooked])
    env = dict(notifier_env, SENSR_NOTIFIER_LEASE_SECONDS="5")
    notifiers(env)
    notifiers(env)
    records = [presence(camera, online=n % 2 == 1) for camera in cameras for n in range(4)]
    produce_activity(kafka_bootstrap, records + records)  # each twice: redeliveries
    eventually(lambda: sum(len(hook.received) for hook in hooks.values()) >= len(records), 60,
               what="not every alert arrived")
    log = DeliveryLog(delivery_index.engine)
    eventually(lambda: all(d.state is DeliveryState.DELIVERED for r in records for d in log.for_record(r.record_id)),
               30, what="not every delivery recorded")
    received = [webhook_id for hook in hooks.values() for webhook_id in hook.ids()]
    assert len(received) == len(set(received)) == len(records)


def test_quiet_hours_and_spacing_skip_alerts_and_say_why(
        notifier_env: dict[str, str], notifiers: Callable[..., Worker], receivers: HttpReceivers,
        delivery_index: FrameIndex, unique_name: str, kafka_bootstrap: str) -> None:
    camera, quiet = unique_name, unique_name + "q"
    spaced, hook = webhook_rule(camera, 1, receivers, spacing_seconds=300)
    berlin = datetime.now(ZoneInfo("Europe/Berlin"))  # quiet from an hour ago to an hour from now
    hushed, quiet_hook = webhook_rule(quiet, 1, receivers, quiet_start=f"{berlin - timedelta(hours=1):%H:%M}",
                                      quiet_end=f"{berlin + timedelta(hours=1):%H:%M}")
    set_rules(kafka_bootstrap, camera, [spaced])
    set_rules(kafka_bootstrap, quiet, [hushed])
    notifiers(notifier_env)
    jpeg = key_frame()
    frame_id = store_frame(delivery_index, s3_client(notifier_env), notifier_env["SENSR_S3_BUCKET"], camera, jpeg)
    first, second = event_start(camera, frame_id), event_start(camera, frame_id)
    end = event_end(second)
    night = presence(quiet, online=False)
    produce_activity(kafka_bootstrap, [first, second, end, night])
    log = DeliveryLog(delivery_index.engine)
    eventually(lambda: [d for d in log.for_record(end.record_id)] == [] and len(hook.received) == 1
               and log.for_record(night.record_id), 60, what="records not all read")
    skipped = log.for_record(second.record_id)[0]
    assert skipped.state is DeliveryState.SKIPPED and "within 300 s" in (skipped.last_error or "")
    hushed_delivery = log.for_record(night.record_id)[0]
    assert hushed_delivery.state is DeliveryState.SKIPPED and "quiet hours" in (hushed_delivery.last_error or "")
    assert quiet_hook.received == []


def test_an_event_end_tells_the_summary(notifier_env: dict[str, str], notifiers: Callable[..., Worker],
                                        mailbox: tuple[Mailbox, int], delivery_index: FrameIndex, unique_name: str,
                                        kafka_bootstrap: str) -> None:
    camera, inbox = unique_name, mailbox[0]
    set_rules(kafka_bootstrap, camera, [rule(camera, 1, Channel.EMAIL, "owner@example.org", on_start=False,
                                             on_end=True)])
    notifiers(notifier_env)
    jpeg = key_frame()
    frame_id = store_frame(delivery_index, s3_client(notifier_env), notifier_env["SENSR_S3_BUCKET"], camera, jpeg)
    start = event_start(camera, frame_id)
    produce_activity(kafka_bootstrap, [start, event_end(start, seconds=125)])
    mail = eventually(lambda: inbox.with_subject("motion ended at"), 60, what="no end e-mail")
    assert "2 min 5 s, 40 frames, peak 7.50" in mail[0].get_body(("plain",)).get_content()
    assert jpeg_parts(mail[0]) == [jpeg] and len(inbox.messages) == 1


def test_a_disabled_camera_does_not_alarm(notifier_env: dict[str, str], notifiers: Callable[..., Worker],
                                          mailbox: tuple[Mailbox, int], unique_name: str,
                                          kafka_bootstrap: str) -> None:
    camera, inbox = unique_name, mailbox[0]
    set_rules(kafka_bootstrap, camera, [rule(camera, 1, Channel.EMAIL, "owner@example.org")], enabled=False)
    notifiers(notifier_env)
    produce_activity(kafka_bootstrap, [presence(camera, online=False)])
    set_rules(kafka_bootstrap, camera, [rule(camera, 1, Channel.EMAIL, "owner@example.org")], enabled=True)

    def back_online() -> bool:
        """Once the notifier has read the camera enabled again, an online record alarms; each
        is on the same partition as the offline one, so read after it."""
        produce_activity(kafka_bootstrap, [presence(camera, online=True)])
        return bool(inbox.with_subject("back online"))

    eventually(back_online, 60, 1.0, what="no online e-mail once enabled")
    assert inbox.with_subject("no frames since") == []


def test_due_retries_to_hanging_receivers_leave_the_other_slots_to_new_alerts(
        notifier_env: dict[str, str], notifiers: Callable[..., Worker], receivers: HttpReceivers,
        delivery_index: FrameIndex, unique_name: str, kafka_bootstrap: str) -> None:
    """Eight receivers answer 500, then hang on every retry: of 4 slots, their due retries
    take only the retry share (2); another camera's new alert goes out while they hang."""
    camera, other = unique_name, unique_name + "b"
    release = threading.Event()
    hanging = [webhook_rule(camera, n, receivers, answers=[500]) for n in range(8)]
    for _rule, hook in hanging:
        hook.hold, hook.hold_from = release, 1
    fine, other_hook = webhook_rule(other, 1, receivers)
    set_rules(kafka_bootstrap, camera, [r for r, _hook in hanging])
    set_rules(kafka_bootstrap, other, [fine])
    notifiers(notifier_env, SENSR_NOTIFIER_CONCURRENCY="4", SENSR_NOTIFIER_RETRY_CONCURRENCY="2",
              SENSR_NOTIFIER_TIMEOUT="300", SENSR_NOTIFIER_LEASE_SECONDS="600")
    offline = presence(camera, online=False)
    produce_activity(kafka_bootstrap, [offline])
    log = DeliveryLog(delivery_index.engine)

    def backlog() -> bool:  # every first attempt failed, two retries hang, the six others are due
        rows = log.for_record(offline.record_id)
        return (len(rows) == 8 and all(d.attempts == 1 and d.state is DeliveryState.PENDING for d in rows)
                and sum(len(hook.received) for _rule, hook in hanging) >= 10)
    eventually(backlog, 60, what=lambda: f"no retry backlog: {[len(h.received) for _r, h in hanging]}")

    produce_activity(kafka_bootstrap, [presence(other, online=False)])
    eventually(lambda: other_hook.received, 60, what="the new alert waits behind the retries")
    assert sum(len(hook.received) for _rule, hook in hanging) == 10  # still only the retry share
    assert all(d.attempts == 1 for d in log.for_record(offline.record_id))  # and none of them has ended

    release.set()
    eventually(lambda: all(d.state is DeliveryState.DELIVERED for d in log.for_record(offline.record_id)), 60,
               what="the retries, once the receivers answer")
    assert all(len(set(hook.ids())) == 1 for _rule, hook in hanging)


def test_the_key_frame_is_read_from_kafka_where_the_record_says_with_nothing_stored(
        notifier_env: dict[str, str], notifiers: Callable[..., Worker], mailbox: tuple[Mailbox, int],
        delivery_index: FrameIndex, unique_name: str, kafka_bootstrap: str) -> None:
    """No catalog worker runs and nothing is stored: the e-mail attaches the key frame's
    exact bytes, read from sensr.frames at the record's key_frame_location, at once."""
    camera, inbox = unique_name, mailbox[0]
    set_rules(kafka_bootstrap, camera, [rule(camera, 1, Channel.EMAIL, "owner@example.org")])
    worker = notifiers(notifier_env)
    jpeg = key_frame()
    frame, location = publish_frame(kafka_bootstrap, camera, jpeg)
    start = event_start(camera, frame.frame_id, frame.timestamp_us, location=location)
    produce_activity(kafka_bootstrap, [start])
    [motion] = eventually(lambda: inbox.with_subject("motion at"), 30, what="no motion e-mail")
    assert jpeg_parts(motion) == [jpeg]
    assert delivery_index.get(camera, frame.frame_id) is None
    assert worker.metric("sensr_notifier_key_frame_reads_total", source="kafka") == 1
    assert worker.metric("sensr_notifier_key_frame_reads_total", source="missing") == 0
    [delivery] = DeliveryLog(delivery_index.engine).for_record(start.record_id)
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.DELIVERED, 1, None)


@pytest.mark.parametrize("where", ["nowhere", "gone", "another_frame"])
def test_without_a_usable_location_the_key_frame_is_awaited_in_the_store(
        where: str, notifier_env: dict[str, str], notifiers: Callable[..., Worker], mailbox: tuple[Mailbox, int],
        receivers: HttpReceivers, delivery_index: FrameIndex, unique_name: str, kafka_bootstrap: str) -> None:
    """A record without key_frame_location (written before the field, or by a worker that
    took the event over), one whose offset Kafka no longer has, or one that points at
    another camera's frame: the e-mail waits until the frame is stored and attaches the
    stored bytes, never another frame's; the webhook, which carries only the link, does
    not wait."""
    camera, inbox = unique_name, mailbox[0]
    hooked, hook = webhook_rule(camera, 2, receivers)
    set_rules(kafka_bootstrap, camera, [rule(camera, 1, Channel.EMAIL, "owner@example.org"), hooked])
    worker = notifiers(notifier_env)
    jpeg, at = key_frame(), now_us()
    frame_id = new_frame_id(at)
    other, other_location = publish_frame(kafka_bootstrap, unique_name + "other", key_frame())
    location = {"nowhere": None, "gone": FrameLocation(other_location.partition, other_location.offset + 10**9),
                "another_frame": other_location}[where]
    start = event_start(camera, frame_id, location=location)
    produce_activity(kafka_bootstrap, [start])
    [webhook] = eventually(lambda: hook.received, 30, what="the webhook waits for the key frame")
    assert webhook["body"]["data"]["link"].endswith(f"/frames/{frame_id}")  # type: ignore[index]
    eventually(lambda: worker.metric("sensr_notifier_key_frame_reads_total", source="missing") >= 1, 30,
               what="the e-mail did not look for its key frame")
    assert inbox.messages == []

    store_frame(delivery_index, s3_client(notifier_env), notifier_env["SENSR_S3_BUCKET"], camera, jpeg, at, frame_id)
    [motion] = eventually(lambda: inbox.with_subject("motion at"), 30, what="no motion e-mail")
    assert jpeg_parts(motion) == [jpeg]
    assert worker.metric("sensr_notifier_key_frame_reads_total", source="store") == 1
    assert worker.metric("sensr_notifier_key_frame_reads_total", source="kafka") == 0
    assert (worker.metric("sensr_notifier_key_frame_mismatches_total") > 0) == (where == "another_frame")
    deliveries = DeliveryLog(delivery_index.engine).for_record(start.record_id)
    assert sorted((d.channel, d.state) for d in deliveries) == [("email", DeliveryState.DELIVERED),
                                                                ("webhook", DeliveryState.DELIVERED)]
