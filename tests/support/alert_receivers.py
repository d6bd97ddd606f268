"""Real receivers for the notifier's end-to-end tests, each on 127.0.0.1 in a thread of
its own: an SMTP server (aiosmtpd) keeping each message, and a Tornado server that takes
webhooks (verifying their Standard Webhooks signature, answering from a script) and
Apprise `json://` posts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from standardwebhooks import Webhook, WebhookVerificationError
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

from infra.process import free_port


@dataclass
class Mailbox:
    """aiosmtpd's handler: every accepted message, parsed."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def with_subject(self, words: str) -> list[EmailMessage]:
        return [message for message in self.messages if words in str(message["Subject"])]


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def jpeg_parts(message: EmailMessage) -> list[bytes]:
    """The bytes of every image/jpeg part of `message`."""
    return [part.get_payload(decode=True) for part in message.walk() if part.get_content_type() == "image/jpeg"]


@dataclass
class Hook:
    """One webhook endpoint: its secret, the answers to give (then 200), what came."""

    secret: str
    answers: list[int] = field(default_factory=list)
    hold: threading.Event | None = None
    """While set to an unset event, requests are recorded but not answered."""
    hold_from: int = 0
    """The first request that `hold` holds (those before it are answered at once)."""
    received: list[dict[str, object]] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [str(request["id"]) for request in self.received]


@dataclass
class HttpReceivers:
    port: int
    hooks: dict[str, Hook] = field(default_factory=dict)
    pushes: list[dict[str, object]] = field(default_factory=list)

    def hook_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    def push_url(self) -> str:
        return f"json://127.0.0.1:{self.port}/push"


class _HookHandler(RequestHandler):
    def initialize(self, receivers: HttpReceivers) -> None:
        self.receivers = receivers

    async def post(self, name: str) -> None:
        hook = self.receivers.hooks[name]
        headers = {key.lower(): value for key, value in self.request.headers.items()}
        try:
            Webhook(hook.secret).verify(self.request.body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        hook.received.append({"id": headers.get("webhook-id"), "verified": verified,
                              "body": json.loads(self.request.body)})
        if hook.hold is not None and len(hook.received) > hook.hold_from:
            while not hook.hold.is_set():
                await asyncio.sleep(0.05)
        self.set_status(hook.answers.pop(0) if hook.answers else 200)
        self.finish()


class _PushHandler(RequestHandler):
    def initialize(self, receivers: HttpReceivers) -> None:
        self.receivers = receivers

    def post(self) -> None:
        self.receivers.pushes.append(json.loads(self.request.body))
        self.finish()


@contextmanager
def http_receivers() -> Iterator[HttpReceivers]:
    """The webhook and push receivers, served by Tornado on an event loop in a thread."""
    sock, port = bind_unused_port()
    receivers = HttpReceivers(port)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, HTTPServer] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        app = Application([(r"/hook/([^/]+)", _HookHandler, {"receivers": receivers}),
                           (r"/push", _PushHandler, {"receivers": receivers})])
        server = HTTPServer(app)
        server.add_sockets([sock])
        holder["server"] = server
        loop.call_soon(started.set)
        loop.run_forever()

    thread = threading.Thread(target=serve, name="alert-receivers", daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield receivers
    finally:
        for hook in receivers.hooks.values():
            if hook.hold is not None:
                hook.hold.set()
        loop.call_soon_threadsafe(holder["server"].stop)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
