"""Webhooks (notifier/webhooks.py, notifier/egress.py): Standard Webhooks signatures checked
by a real HTTP server on 127.0.0.1, the outcome of each attempt, the retry schedule on an
injected clock, and the server-side request forgery guard."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest
import trustme
from standardwebhooks import Webhook
from tornado.httpserver import HTTPServer
from tornado.netutil import Resolver
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

from notifier.egress import EgressPolicy, GuardedResolver, RefusedAddress, non_public_reason
from notifier.webhooks import (
    FIRST_RETRY_SECONDS, LONGEST_PAUSE_SECONDS, RETRY_WINDOW, Attempt, Outcome, WebhookSender,
    outcome_of_status, retry_after_seconds, retry_delay,
)
from sensr.alert_rules import new_secret
from tests.support.notifier import motion_alert

LOOPBACK_ALLOWED = EgressPolicy((ip_network("127.0.0.0/8"), ip_network("::1/128")))


@dataclass
class Receiver:
    """A webhook receiver: answers each POST with the next of `answers` (then 200)."""

    secret: str
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0


class _Hook(RequestHandler):
    def initialize(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def post(self) -> None:
        self.receiver.requests.append((dict(self.request.headers), self.request.body))
        status, headers = self.receiver.answers.pop(0) if self.receiver.answers else (200, {})
        self.set_status(status)
        for name, value in headers.items():
            self.set_header(name, value)
        self.finish("receiver says no" if status >= 400 else "")


async def with_receiver(receiver: Receiver, scenario: Callable[[Receiver], Awaitable[None]],
                        tls: ssl.SSLContext | None = None) -> None:
    sock, receiver.port = bind_unused_port()
    server = HTTPServer(Application([(r"/hook", _Hook, {"receiver": receiver})]), ssl_options=tls)
    server.add_sockets([sock])
    try:
        await scenario(receiver)
    finally:
        server.stop()
        await server.close_all_connections()


def verify_by_hand(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The specification's signature, computed here without the library that made it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['Webhook-Id']}.{headers['Webhook-Timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return headers["Webhook-Signature"] == f"v1,{expected}"


def test_a_receiver_verifies_the_signed_alert() -> None:
    async def scenario(receiver: Receiver) -> None:
        sender = WebhookSender(LOOPBACK_ALLOWED, timeout=30)
        try:
            attempt = await sender.deliver(f"http://127.0.0.1:{receiver.port}/hook", receiver.secret, "msg_1", motion_alert())
        finally:
            sender.close()
        assert attempt == Attempt(Outcome.DELIVERED, status=200)
        [(headers, body)] = receiver.requests
        assert verify_by_hand(receiver.secret, headers, body)
        Webhook(receiver.secret).verify(body, headers)  # the reference library agrees
        assert headers["Content-Type"] == "application/json" and headers["Webhook-Id"] == "msg_1"
        sent = json.loads(body)
        assert sent["type"] == "motion.start"
        assert sent["data"]["camera_id"] == "cam_01" and sent["data"]["event_id"] == "ev_1"
        assert sent["data"]["title"] == "Front door: motion at 14:02"
        assert sent["data"]["link"] == "https://sensr.example/cameras/cam_01/events/ev_1"

    asyncio.run(with_receiver(Receiver(new_secret()), scenario))


def test_an_https_receiver_is_verified_by_its_name_while_the_checked_address_is_called(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def scenario(receiver: Receiver) -> None:
        url = f"https://localhost:{receiver.port}/hook"
        trusted, untrusted = WebhookSender(LOOPBACK_ALLOWED, 30, ca_file), WebhookSender(LOOPBACK_ALLOWED, 30)
        by_address = WebhookSender(LOOPBACK_ALLOWED, 30, ca_file)
        try:
            assert (await trusted.deliver(url, receiver.secret, "m", motion_alert())).outcome is Outcome.DELIVERED
            refused = await untrusted.deliver(url, receiver.secret, "m", motion_alert())
            wrong_name = await by_address.deliver(f"https://127.0.0.1:{receiver.port}/hook", receiver.secret, "m",
                                                  motion_alert())  # the certificate names localhost only
        finally:
            for sender in (trusted, untrusted, by_address):
                sender.close()
        assert refused.outcome is Outcome.RETRY and "CERTIFICATE_VERIFY_FAILED" in refused.error
        assert wrong_name.outcome is Outcome.RETRY and "CERTIFICATE_VERIFY_FAILED" in wrong_name.error
        assert len(receiver.requests) == 1

    asyncio.run(with_receiver(Receiver(new_secret()), scenario, tls=server_tls))


def test_three_server_errors_then_success_are_four_reported_attempts() -> None:
    async def scenario(receiver: Receiver) -> None:
        sender = WebhookSender(LOOPBACK_ALLOWED, timeout=30)
        try:
            attempts = [await sender.deliver(f"http://127.0.0.1:{receiver.port}/hook", receiver.secret, "msg_2",
                                             motion_alert()) for _ in range(4)]
        finally:
            sender.close()
        assert [(a.outcome, a.status) for a in attempts] == [(Outcome.RETRY, 500)] * 3 + [(Outcome.DELIVERED, 200)]
        assert attempts[0].error == "HTTP 500 Internal Server Error: receiver says no"
        assert {headers["Webhook-Id"] for headers, _ in receiver.requests} == {"msg_2"}  # one message, retried
        assert all(verify_by_hand(receiver.secret, headers, body) for headers, body in receiver.requests)

    asyncio.run(with_receiver(Receiver(new_secret(), answers=[(500, {})] * 3), scenario))


@pytest.mark.parametrize(("status", "headers", "outcome", "retry_after"), [
    (429, {"Retry-After": "120"}, Outcome.RETRY, 120.0),
    (503, {}, Outcome.RETRY, None),
    (404, {}, Outcome.FAILED, None),
    (410, {}, Outcome.FAILED, None),
    (302, {"Location": "http://169.254.169.254/latest/meta-data"}, Outcome.FAILED, None),
])
def test_each_answer_is_classified_and_redirects_are_not_followed(
        status: int, headers: dict[str, str], outcome: Outcome, retry_after: float | None) -> None:
    async def scenario(receiver: Receiver) -> None:
        sender = WebhookSender(LOOPBACK_ALLOWED, timeout=30)
        try:
            attempt = await sender.deliver(f"http://127.0.0.1:{receiver.port}/hook", receiver.secret, "m", motion_alert())
        finally:
            sender.close()
        assert (attempt.outcome, attempt.status, attempt.retry_after) == (outcome, status, retry_after)
        assert len(receiver.requests) == 1

    asyncio.run(with_receiver(Receiver(new_secret(), answers=[(status, headers)]), scenario))


def test_a_receiver_that_does_not_answer_in_time_is_a_timeout_to_retry() -> None:
    async def scenario() -> None:
        sock, port = bind_unused_port()  # listening, never accepted: the request waits
        sock.listen(0)
        sender = WebhookSender(LOOPBACK_ALLOWED, timeout=0.5)
        try:
            attempt = await sender.deliver(f"http://127.0.0.1:{port}/hook", new_secret(), "m", motion_alert())
        finally:
            sender.close()
            sock.close()
        assert attempt.outcome is Outcome.RETRY and attempt.status is None
        assert attempt.error == "no answer within 0.5 s"

    asyncio.run(scenario())


def test_a_closed_port_is_a_connection_error_to_retry() -> None:
    sock, port = bind_unused_port()
    sock.close()

    async def scenario() -> None:
        sender = WebhookSender(LOOPBACK_ALLOWED, timeout=30)
        try:
            attempt = await sender.deliver(f"http://127.0.0.1:{port}/hook", new_secret(), "m", motion_alert())
        finally:
            sender.close()
        assert attempt.outcome is Outcome.RETRY and attempt.error.startswith("connection failed")

    asyncio.run(scenario())


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]",
                                  "localhost", "0.0.0.0", "[fe80::1]", "224.0.0.1"])
def test_private_loopback_and_link_local_receivers_are_refused_by_default(host: str) -> None:
    async def scenario(receiver: Receiver) -> None:
        sender = WebhookSender(EgressPolicy(), timeout=30)
        try:
            attempt = await sender.deliver(f"http://{host}:{receiver.port}/hook", receiver.secret, "m", motion_alert())
        finally:
            sender.close()
        assert attempt.outcome is Outcome.FAILED and attempt.status is None
        assert "SENSR_NOTIFIER_ALLOWED_NETWORKS" in attempt.error
        assert receiver.requests == []

    asyncio.run(with_receiver(Receiver(new_secret()), scenario))


def test_an_allowed_network_is_reached_by_name_too() -> None:
    async def scenario(receiver: Receiver) -> None:
        sender = WebhookSender(LOOPBACK_ALLOWED, timeout=30)
        try:
            attempt = await sender.deliver(f"http://localhost:{receiver.port}/hook", receiver.secret, "m", motion_alert())
        finally:
            sender.close()
        assert attempt.outcome is Outcome.DELIVERED and len(receiver.requests) == 1

    asyncio.run(with_receiver(Receiver(new_secret()), scenario))


class _FixedAnswer(Resolver):
    """A name server that answers every name with the same addresses (pure logic: no DNS)."""

    def initialize(self, addresses: list[str]) -> None:  # type: ignore[override]
        self.addresses = addresses

    async def resolve(self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC) -> list:
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, (a, port)) for a in self.addresses]


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    resolver = GuardedResolver(policy=EgressPolicy(), resolver=_FixedAnswer(addresses=["93.184.215.14", "10.0.0.7"]))
    with pytest.raises(RefusedAddress) as refused:
        asyncio.run(resolver.resolve("rebind.example", 443))
    assert refused.value.address == ip_address("10.0.0.7") and refused.value.reason == "private"
    public = GuardedResolver(policy=EgressPolicy(), resolver=_FixedAnswer(addresses=["93.184.215.14", "2606:4700::1111"]))
    assert len(asyncio.run(public.resolve("public.example", 443))) == 2


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"), ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "non-global"), ("::1", "loopback"), ("::", "unspecified"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("fc00::1", "private"), ("ff02::1", "multicast"), ("8.8.8.8", None), ("2606:4700::1111", None),
])
def test_every_kind_of_non_public_address_is_named(address: str, reason: str | None) -> None:
    assert non_public_reason(ip_address(address)) == reason


def test_an_allowed_ipv4_network_covers_its_ipv6_mapped_form() -> None:
    policy = EgressPolicy((ip_network("192.168.1.0/24"),))
    policy.check("nas", ip_address("::ffff:192.168.1.20"))
    with pytest.raises(RefusedAddress):
        policy.check("router", ip_address("192.168.2.1"))


@pytest.mark.parametrize(("status", "outcome"), [
    (200, Outcome.DELIVERED), (204, Outcome.DELIVERED), (301, Outcome.FAILED), (400, Outcome.FAILED),
    (401, Outcome.FAILED), (408, Outcome.FAILED), (429, Outcome.RETRY), (500, Outcome.RETRY), (502, Outcome.RETRY),
])
def test_only_429_and_5xx_answers_are_retried(status: int, outcome: Outcome) -> None:
    assert outcome_of_status(status) is outcome


def test_the_schedule_backs_off_with_jitter_and_ends_within_24_hours() -> None:
    rng = random.Random(13)
    first = now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    pauses = []
    while (pause := retry_delay(Attempt(Outcome.RETRY, status=500), len(pauses) + 1, first, now, rng)) is not None:
        pauses.append(pause)
        now += timedelta(seconds=pause)
    ceilings = [min(LONGEST_PAUSE_SECONDS, FIRST_RETRY_SECONDS * 2 ** n) for n in range(len(pauses))]
    assert all(ceiling / 2 <= pause <= ceiling for pause, ceiling in zip(pauses, ceilings))
    assert len(set(pauses)) == len(pauses)  # jittered
    assert now - first <= RETRY_WINDOW
    assert now - first > RETRY_WINDOW - timedelta(seconds=LONGEST_PAUSE_SECONDS)  # kept trying until near the end


def test_the_schedule_honours_retry_after_and_never_retries_a_failure() -> None:
    rng = random.Random(1)
    first = datetime(2026, 12, 4, tzinfo=timezone.utc)
    busy = Attempt(Outcome.RETRY, status=429, retry_after=600.0)
    assert retry_delay(busy, 1, first, first, rng) == 600.0
    assert retry_delay(busy, 1, first, first + RETRY_WINDOW - timedelta(seconds=599), rng) is None
    assert retry_delay(Attempt(Outcome.FAILED, status=404), 1, first, first, rng) is None
    assert retry_delay(Attempt(Outcome.DELIVERED, status=200), 1, first, first, rng) is None


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    now = datetime(2026, 12, 4, 16, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("30", now) == 30.0
    assert retry_after_seconds("Fri, 04 Dec 2026 16:01:30 GMT", now) == 90.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_secrets_are_fresh_standard_webhooks_secrets() -> None:
    one, two = new_secret(), new_secret()
    assert one != two and one.startswith("whsec_")
    assert len(base64.b64decode(one.removeprefix("whsec_"))) == 32
