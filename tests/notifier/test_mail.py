"""Alert e-mails (notifier/mail.py) through a real SMTP server in the test (aiosmtpd): the
key frame arrives with its exact bytes, inline under the Content-ID the HTML shows, the
subject is in the owner's time, the link is in both bodies; over plain SMTP, STARTTLS
with a login, and implicit TLS, against a throw-away CA (trustme)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from infra.process import free_port
from notifier.mail import SmtpSender, alert_email, sender_address
from notifier.message import Alert, AlertKind, MotionSummary
from sensr.settings import CoreSettings, NotifierSettings
from tests.support.notifier import key_frame, motion_alert

USER, PASSWORD = "sensr-mailer", "correct horse battery staple"


@dataclass
class Mailbox:
    """The aiosmtpd handler: keeps each message that the server accepted."""

    received: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"


def _check_login(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture(params=["plain", "starttls", "tls"])
def smtp(request: pytest.FixtureRequest, ca: trustme.CA, ca_file: Path) -> Iterator[tuple[Mailbox, NotifierSettings]]:
    """A running SMTP server and the notifier settings that reach it, per security mode."""
    mailbox, security, port = Mailbox(), request.param, free_port()
    options: dict[str, object] = {}
    if security == "starttls":  # a login is only offered, and required, after STARTTLS
        options = {"tls_context": _server_tls(ca), "require_starttls": True,
                   "authenticator": _check_login, "auth_require_tls": True}
    elif security == "tls":
        options = {"ssl_context": _server_tls(ca)}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    settings = NotifierSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security=security,
                                notifier_ca_file=ca_file, smtp_from="Sensr <alerts@sensr.example>",
                                smtp_username=USER if security == "starttls" else "",
                                smtp_password=PASSWORD if security == "starttls" else "")
    try:
        yield mailbox, settings
    finally:
        controller.stop()


def test_the_motion_email_arrives_with_the_exact_key_frame(smtp: tuple[Mailbox, NotifierSettings]) -> None:
    mailbox, settings = smtp
    frame = key_frame()
    sent = alert_email(motion_alert(frame), settings.smtp_from, "owner@example.org")
    asyncio.run(SmtpSender(settings).send(sent))

    [envelope] = mailbox.received
    assert envelope.mail_from == "alerts@sensr.example" and envelope.rcpt_tos == ["owner@example.org"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["Subject"] == "Front door: motion at 14:02"  # 13:02 UTC, in Berlin
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    link = "https://sensr.example/cameras/cam_01/events/ev_1"
    assert link in text and f'href="{link}"' in page
    assert "Fri 04 Dec 2026, 14:02:07 (Europe/Berlin)" in text
    [picture] = [part for part in message.walk() if part.get_content_type() == "image/jpeg"]
    assert picture.get_payload(decode=True) == frame
    assert picture.get_content_disposition() == "inline"
    assert f'src="cid:{picture["Content-ID"].strip("<>")}"' in page


def test_a_wrong_login_is_refused_and_raised() -> None:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=_check_login,
                            auth_require_tls=False)
    controller.start()
    try:
        settings = NotifierSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="plain",
                                    smtp_username=USER, smtp_password="wrong")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            asyncio.run(SmtpSender(settings).send(alert_email(motion_alert(), "a@b.example", "owner@example.org")))
    finally:
        controller.stop()
    assert mailbox.received == []


def test_starttls_is_required_when_configured(ca_file: Path) -> None:
    """A server that does not offer STARTTLS gets no message in clear text."""
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = NotifierSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls", notifier_ca_file=ca_file)
        with pytest.raises(smtplib.SMTPNotSupportedError, match="STARTTLS"):
            asyncio.run(SmtpSender(settings).send(alert_email(motion_alert(), "a@b.example", "owner@example.org")))
    finally:
        controller.stop()
    assert mailbox.received == []


def test_a_server_whose_certificate_is_not_trusted_gets_nothing(ca: trustme.CA) -> None:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=_server_tls(ca))
    controller.start()
    try:
        settings = NotifierSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="tls")  # system CAs only
        with pytest.raises(ssl.SSLCertVerificationError):
            asyncio.run(SmtpSender(settings).send(alert_email(motion_alert(), "a@b.example", "owner@example.org")))
    finally:
        controller.stop()
    assert mailbox.received == []


def test_an_alert_without_a_frame_is_text_and_html_only() -> None:
    alert = Alert(camera_id="cam_01", camera_name="Garage <east>", kind=AlertKind.MOTION_END,
                  at=motion_alert().at, time_zone=motion_alert().time_zone, link="https://sensr.example/e?a=1&b=2",
                  summary=MotionSummary(duration=timedelta(seconds=125), frames=42, peak=0.37))
    message = alert_email(alert, "alerts@sensr.example", "owner@example.org")
    assert message["Subject"] == "Garage <east>: motion ended at 14:02"
    assert [part.get_content_type() for part in message.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    page = message.get_body(("html",)).get_content()
    assert "Garage &lt;east&gt;" in page and 'href="https://sensr.example/e?a=1&amp;b=2"' in page
    assert "2 min 5 s, 42 frames, peak 0.37" in message.get_body(("plain",)).get_content()


def test_the_sender_defaults_to_the_public_host() -> None:
    assert sender_address(NotifierSettings(), CoreSettings(public_host="cams.example")) == "sensr@cams.example"
    assert sender_address(NotifierSettings(smtp_from="A <a@b.example>"), CoreSettings()) == "A <a@b.example>"
