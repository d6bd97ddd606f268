"""Alerts end to end through real uploads: ingest_http, the catalog worker, the activity
worker, the notifier and the api as separate processes on the session's Kafka and
SeaweedFS; a real SMTP server (aiosmtpd) and a real Tornado webhook receiver that
verifies the Standard Webhooks signature. The owner sets everything up through the
JSON API; the camera uploads JPEGs over HTTP, as a camera does.

The camera's offline threshold is the smallest the api allows (1 minute), and frames
carry the time of their upload, so the offline alert comes about a minute after the last
frame: the test waits for it (no setting shortens it for tests, and none should)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from launcher.service_stack import LOOPBACK_LOAD, S3Endpoint, ServiceStack
from tests.support.activity_frames import across, jpegs, scene_frames
from tests.support.alert_receivers import Hook, HttpReceivers, Mailbox, http_receivers, jpeg_parts, smtp_server
from workload.api_client import ApiClient, CameraLogin
from workload.waiting import eventually

SERVICES = ("api", "ingest_http", "catalog_worker", "activity_worker", "notifier")
STILL, MOVING = 20, 30
"""Frames of the still, noisy scene (more than the motion model's warm-up), then frames of
a box moving through it."""
OFFLINE_WAIT = 150.0
"""The camera's offline minute, the activity worker's settling and its tick, with room."""


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def receivers() -> Iterator[HttpReceivers]:
    with http_receivers() as started:
        yield started


@pytest.fixture(scope="module")
def alert_stack(kafka_bootstrap: str, s3_endpoint: S3Endpoint, tmp_path_factory: pytest.TempPathFactory,
                mailbox: tuple[Mailbox, int]) -> Iterator[ServiceStack]:
    settings = {**LOOPBACK_LOAD, "SENSR_SMTP_HOST": "127.0.0.1", "SENSR_SMTP_PORT": str(mailbox[1]),
                "SENSR_SMTP_SECURITY": "plain", "SENSR_NOTIFIER_ALLOWED_NETWORKS": "127.0.0.0/8",
                "SENSR_PUBLIC_URL": "https://sensr.example"}
    running = ServiceStack(kafka_bootstrap, tmp_path_factory.mktemp("alerts") / "data", s3_endpoint,
                           services=SERVICES, overrides=settings).start()
    yield running
    running.stop()


def upload(session: requests.Session, camera: CameraLogin, jpeg: bytes) -> str:
    """One photo by HTTP PUT; its frame id."""
    answer = session.put(camera.photo_url, data=jpeg, auth=camera.auth, headers={"Content-Type": "image/jpeg"},
                         timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["frame_id"])


def add_rule(user: ApiClient, camera: CameraLogin, **fields: object) -> dict[str, object]:
    answer = user.session.post(user.url(f"/cameras/{camera.id}/alerts"), json=fields, timeout=30)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_motion_then_silence_then_return_alert_once_each_by_email_and_signed_webhook(
        alert_stack: ServiceStack, mailbox: tuple[Mailbox, int], receivers: HttpReceivers) -> None:
    inbox = mailbox[0]
    user = ApiClient(alert_stack.api_url)
    camera = user.create_camera("Front door")
    changed = user.session.patch(user.url(f"/cameras/{camera.id}"), json={"offline_minutes": 1}, timeout=30)
    assert changed.status_code == 200, changed.text
    email_rule = add_rule(user, camera, channel="email", target="owner@example.org")
    hook_rule = add_rule(user, camera, channel="webhook", target=receivers.hook_url("front-door"))
    hook = receivers.hooks["front-door"] = Hook(str(hook_rule["secret"]))

    # A test alert through the api: once it is in, the notifier knows the camera's rules.
    tested = user.session.post(user.url(f"/cameras/{camera.id}/alerts/{email_rule['id']}/test"), timeout=30)
    assert tested.status_code == 202, tested.text
    eventually(lambda: inbox.messages, 60, what="no test e-mail")
    eventually(lambda: requests.put(camera.photo_url, data=b"not a jpeg", auth=camera.auth, timeout=10).status_code
               == 400, 30, what="ingest_http does not know the camera")

    session = requests.Session()
    frames = jpegs([*scene_frames(STILL), *scene_frames(MOVING, boxes=[across(64, 48)])])
    uploaded = {upload(session, camera, jpeg): jpeg for jpeg in frames}
    still_ids = list(uploaded)[:STILL]

    [motion] = eventually(lambda: inbox.with_subject("Front door: motion at"), 60, what="no motion e-mail")
    link = next(line for line in motion.get_body(("plain",)).get_content().splitlines() if "/frames/" in line)
    key_frame_id = link.strip().rsplit("/", 1)[1]
    assert link.strip() == f"https://sensr.example/cameras/{camera.id}/frames/{key_frame_id}"
    assert key_frame_id in uploaded and key_frame_id not in still_ids
    # The e-mail may come before the key frame is listed: the notifier reads it from Kafka.
    frame_url = user.url(f"/cameras/{camera.id}/frames/{key_frame_id}")
    eventually(lambda: user.session.get(frame_url, timeout=10).status_code == 200, 60, what="key frame not listed")
    stored = user.image(user.get(f"/cameras/{camera.id}/frames/{key_frame_id}"))
    assert jpeg_parts(motion) == [stored] == [uploaded[key_frame_id]]

    [start] = eventually(lambda: [r for r in hook.received if r["body"]["type"] == "motion.start"],  # type: ignore[index]
                         30, what="no motion webhook")
    assert start["verified"] is True
    assert start["body"]["data"]["camera_id"] == camera.id  # type: ignore[index]

    # Silence: the activity worker announces the camera offline once, a minute after its last frame.
    [offline] = eventually(lambda: inbox.with_subject("no frames since"), OFFLINE_WAIT, what="no offline e-mail")
    assert "Front door" in str(offline["Subject"])
    upload(session, camera, frames[0])
    eventually(lambda: inbox.with_subject("back online"), 60, what="no online e-mail")
    webhooks = eventually(lambda: (t := [r["body"]["type"] for r in hook.received])[-1:] == ["camera.online"]  # type: ignore[index]
                          and t, 30, what="no online webhook")

    # Each record was read (in its camera's order) before the online one: nothing came twice.
    assert len(inbox.with_subject("motion at")) == 1 and len(inbox.with_subject("no frames since")) == 1
    assert len(inbox.messages) == 4  # the test alert, motion, offline, online
    assert webhooks == ["motion.start", "camera.offline", "camera.online"]
    assert all(request["verified"] for request in hook.received)
    log = user.get(f"/cameras/{camera.id}/alerts/deliveries")
    sent = sorted((d["channel"], d["kind"]) for d in log["deliveries"] if d["state"] == "delivered")
    assert sent == sorted([("email", "test"), ("email", "motion.start"), ("email", "camera.offline"),
                           ("email", "camera.online"), ("webhook", "motion.start"), ("webhook", "camera.offline"),
                           ("webhook", "camera.online")]), log
