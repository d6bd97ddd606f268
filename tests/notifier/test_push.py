"""Push services (notifier/push.py) through Apprise, with a `json://` URL served by a real
HTTP server on 127.0.0.1: title, text with link and the key frame's exact bytes arrive;
a service's failure is reported with Apprise's words; the egress guard refuses loopback
and private servers unless allowed, and is not applied to cloud services' token URLs."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from ipaddress import ip_network

import pytest
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

from notifier.egress import EgressPolicy
from notifier.push import InvalidPushUrl, PushResult, PushSender, push_service, server_of
from tests.support.notifier import key_frame, motion_alert

LOOPBACK_ALLOWED = EgressPolicy((ip_network("127.0.0.0/8"),))


class _Receiver(RequestHandler):
    """Answers with the status named by the path's last part (`/push/503`), else 200."""

    def initialize(self, received: list[bytes]) -> None:
        self.received = received

    def post(self, status: str) -> None:
        self.received.append(self.request.body)
        self.set_status(int(status or 200))
        self.finish()


async def with_server(scenario: Callable[[int, list[bytes]], Awaitable[None]]) -> None:
    received: list[bytes] = []
    sock, port = bind_unused_port()
    server = HTTPServer(Application([(r"/push/?(\d*)", _Receiver, {"received": received})]))
    server.add_sockets([sock])
    try:
        await scenario(port, received)
    finally:
        server.stop()
        await server.close_all_connections()


def test_a_json_url_receives_title_text_and_the_exact_key_frame() -> None:
    frame = key_frame()

    async def scenario(port: int, received: list[bytes]) -> None:
        result = await PushSender(LOOPBACK_ALLOWED, timeout=30).send(f"json://127.0.0.1:{port}/push", motion_alert(frame))
        assert result == PushResult(True)
        [body] = received
        sent = json.loads(body)
        assert sent["title"] == "Front door: motion at 14:02"
        assert "https://sensr.example/cameras/cam_01/events/ev_1" in sent["message"]
        [attachment] = sent["attachments"]
        assert attachment["mimetype"] == "image/jpeg" and attachment["filename"] == "cam_01-20261204-140207.jpg"
        assert base64.b64decode(attachment["base64"]) == frame

    asyncio.run(with_server(scenario))


def test_a_service_that_fails_is_reported_with_apprises_reason() -> None:
    async def scenario(port: int, received: list[bytes]) -> None:
        result = await PushSender(LOOPBACK_ALLOWED, timeout=30).send(f"json://127.0.0.1:{port}/push/503", motion_alert())
        assert not result.delivered and not result.refused
        assert "503" in result.error
        assert len(received) == 1

    asyncio.run(with_server(scenario))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.1", "169.254.169.254", "[::1]"])
def test_loopback_private_and_link_local_servers_are_refused_by_default(host: str) -> None:
    async def scenario(port: int, received: list[bytes]) -> None:
        result = await PushSender(EgressPolicy(), timeout=30).send(f"json://{host}:{port}/push", motion_alert())
        assert result.refused and not result.delivered
        assert "SENSR_NOTIFIER_ALLOWED_NETWORKS" in result.error
        assert received == []

    asyncio.run(with_server(scenario))


def test_an_unknown_url_is_refused_for_good() -> None:
    with pytest.raises(InvalidPushUrl):
        push_service("nosuchservice://whatever")
    result = asyncio.run(PushSender(EgressPolicy(), timeout=30).send("nosuchservice://whatever", motion_alert()))
    assert result.refused and not result.delivered


@pytest.mark.parametrize(("url", "server"), [
    ("json://127.0.0.1:8000/hook", ("127.0.0.1", 8000)),
    ("jsons://hooks.example/x", ("hooks.example", 443)),
    ("ntfys://ntfy.home.example/doorbell", ("ntfy.home.example", 443)),
    ("hassio://ha.local/token", ("ha.local", 8123)),
    ("ntfy://doorbell", None),  # ntfy.sh
    ("tgram://123456789:abcdefg_hijklmnop/12315544/", None),  # api.telegram.org; the host part is a token
    ("discord://1234/abcd", None),
    ("json://[::1]:8000/hook", ("::1", 8000)),
])
def test_the_guard_knows_which_urls_name_their_server(url: str, server: tuple[str, int] | None) -> None:
    assert server_of(push_service(url)) == server
