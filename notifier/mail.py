"""Alert e-mails: built with the standard library's `EmailMessage`, sent over SMTP.

The message is `multipart/alternative` (plain text, then HTML); the HTML part is
`multipart/related` with the key frame inline under a Content-ID, so mail clients show
the picture in the message and still offer it as an attachment. Every MIME detail
(boundaries, base64, headers) is the `email` package's.

Sending uses `smtplib` in a worker thread: the notifier sends a handful of messages at
a time, a thread per conversation is cheap, and the standard library's client is the
best-tested SMTP client there is (an async client would be one more dependency for no
gain at this rate).
"""

from __future__ import annotations

import asyncio
import html
import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from notifier.egress import tls_context
from notifier.message import Alert
from sensr.settings import CoreSettings, NotifierSettings


def sender_address(notifier: NotifierSettings, core: CoreSettings) -> str:
    """`SENSR_SMTP_FROM`, or `sensr@<SENSR_PUBLIC_HOST>`."""
    return notifier.smtp_from or f"sensr@{core.public_host}"


def alert_email(alert: Alert, sender: str, recipient: str) -> EmailMessage:
    """The e-mail for `alert`: subject `alert.title()`, text and HTML bodies with the
    link, and the key frame (exact bytes) inline in the HTML."""
    message = EmailMessage()
    message["Subject"] = alert.title()
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(datetime.now(timezone.utc))  # when written, not when it happened
    domain = sender.rpartition("@")[2].rstrip(">") or None
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(alert.text())
    frame_id = make_msgid(domain=domain)
    message.add_alternative(_html(alert, frame_id if alert.key_frame is not None else None), subtype="html")
    if alert.key_frame is not None:
        html_part = message.get_payload()[1]
        stamp = alert.local_time.strftime("%Y%m%d-%H%M%S")
        html_part.add_related(alert.key_frame, maintype="image", subtype="jpeg", cid=frame_id,
                              disposition="inline", filename=f"{alert.camera_id}-{stamp}.jpg")
    return message


def _html(alert: Alert, frame_id: str | None) -> str:
    link = html.escape(alert.link, quote=True)
    picture = (f'<p><a href="{link}"><img src="cid:{html.escape(frame_id[1:-1], quote=True)}" '
               f'alt="{html.escape(alert.camera_name, quote=True)}" style="max-width:100%"></a></p>\n'
               if frame_id else "")
    return (f"<!doctype html>\n<html><body>\n<p>{html.escape(alert.sentence())}</p>\n{picture}"
            f'<p><a href="{link}">Open in Sensr</a></p>\n</body></html>\n')


class SmtpSender:
    """Sends e-mails through the configured SMTP server, one conversation per message."""

    def __init__(self, notifier: NotifierSettings) -> None:
        self._settings = notifier
        self._tls = tls_context(notifier.notifier_ca_file) if notifier.smtp_security != "plain" else None

    async def send(self, message: EmailMessage) -> None:
        """Send `message`; raises `smtplib.SMTPException` or `OSError` when it was not
        accepted (the service decides whether to retry)."""
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        settings = self._settings
        client: smtplib.SMTP
        if settings.smtp_security == "tls":
            client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                      timeout=settings.smtp_timeout, context=self._tls)
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=self._tls)  # raises SMTPNotSupportedError if not offered
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password)
            client.send_message(message)
