"""Webhooks: a signed JSON POST per alert, following Standard Webhooks.

Signing (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256
of "id.timestamp.body">` under a `whsec_` secret) is done by `standardwebhooks`, the
specification's own reference library, so receivers can verify with any Standard
Webhooks library. The `webhook-id` is the delivery's id and stays the same across its
retries, which lets a receiver drop a repeat.

The call goes through Tornado's HTTP client (already Sensr's server library) with
`GuardedResolver`: it connects only to addresses the egress policy allows, follows no
redirect, and ignores proxy environment variables. `deliver` makes one attempt and
reports its outcome; when to try again is `retry_delay`'s answer, and the retry loop
and the delivery log belong to the notifier service.
"""

from __future__ import annotations

import enum
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from standardwebhooks import Webhook
from tornado.httpclient import HTTPClientError, HTTPRequest, HTTPResponse
from tornado.httputil import HTTPInputError
from tornado.simple_httpclient import HTTPTimeoutError, SimpleAsyncHTTPClient

from notifier.egress import EgressPolicy, GuardedResolver, RefusedAddress, tls_context
from notifier.message import Alert

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY_SECONDS = 5.0
LONGEST_PAUSE_SECONDS = 3600.0
_KEPT_ANSWER_BYTES = 512
# Calls in flight at once per sender; more wait in Tornado's queue, and the wait counts
# against their timeout, so this stays above what the service sends at once.
_CONCURRENT_CALLS = 64


def payload(alert: Alert) -> bytes:
    """The JSON body, in the Standard Webhooks envelope: `type`, `timestamp`, `data`.

    The key frame is not inlined (webhook bodies stay small); `data.link` leads to it (so a
    webhook is sent without waiting for the frame to be stored: the link may answer 404 for
    the moment the catalog worker takes to store it).
    """
    data: dict[str, object] = {
        "camera_id": alert.camera_id,
        "camera_name": alert.camera_name,
        "event_id": alert.event_id,
        "at": alert.at.astimezone(timezone.utc).isoformat(),
        "title": alert.title(),
        "text": alert.sentence(),
        "link": alert.link,
    }
    if alert.summary is not None:
        data["summary"] = {"duration_seconds": alert.summary.duration.total_seconds(),
                           "frames": alert.summary.frames, "peak": alert.summary.peak}
    body = {"type": alert.kind.value, "timestamp": alert.at.astimezone(timezone.utc).isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":")).encode()


def signed_headers(secret: str, message_id: str, sent_at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for `body` sent at `sent_at` (aware)."""
    signature = Webhook(secret).sign(message_id, sent_at.astimezone(timezone.utc), body.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signature}


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"      # timeout, connection error, 5xx, 429: worth another attempt
    FAILED = "failed"    # any other answer, or an address that is refused: never retried


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one call gave: the status (None when no answer came), an error for the
    delivery log, and the receiver's Retry-After in seconds, if it sent one."""

    outcome: Outcome
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


def outcome_of_status(status: int) -> Outcome:
    """2xx delivered; 429 and 5xx retried; anything else (other 4xx, a redirect, which is
    not followed) failed for good."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 429 or status >= 500:
        return Outcome.RETRY
    return Outcome.FAILED


def retry_delay(attempt: Attempt, attempts_made: int, first_attempt_at: datetime, now: datetime,
                rng: random.Random, first_retry: float = FIRST_RETRY_SECONDS) -> float | None:
    """Seconds to wait before the next attempt, or None to give up.

    The pause doubles from `first_retry` (`SENSR_NOTIFIER_FIRST_RETRY_SECONDS`) up to `LONGEST_PAUSE_SECONDS`, each
    drawn between half and all of it (jitter, so receivers that come back are not hit
    by every sender at once), and is at least the receiver's Retry-After. No attempt
    is made later than `RETRY_WINDOW` after the first.
    """
    if attempt.outcome is not Outcome.RETRY:
        return None
    ceiling = min(LONGEST_PAUSE_SECONDS, first_retry * 2 ** (attempts_made - 1))
    pause = rng.uniform(ceiling / 2, ceiling)
    if attempt.retry_after is not None:
        pause = max(pause, attempt.retry_after)
    if now + timedelta(seconds=pause) > first_attempt_at + RETRY_WINDOW:
        return None
    return pause


def retry_after_seconds(header: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from `now`."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(header) - now).total_seconds())
    except (TypeError, ValueError):
        return None


class WebhookSender:
    """Posts signed alerts to webhook URLs; one per notifier process."""

    def __init__(self, policy: EgressPolicy, timeout: float, ca_file: Path | None = None) -> None:
        self._client = SimpleAsyncHTTPClient(force_instance=True, max_clients=_CONCURRENT_CALLS,
                                             resolver=GuardedResolver(policy=policy))
        self._timeout = timeout
        self._tls = tls_context(ca_file)

    def close(self) -> None:
        self._client.close()

    async def deliver(self, url: str, secret: str, message_id: str, alert: Alert) -> Attempt:
        """Make one attempt to POST `alert` to `url`; never raises for the receiver's faults."""
        if urlsplit(url).scheme not in ("http", "https"):
            return Attempt(Outcome.FAILED, error="a webhook URL must be http or https")
        body = payload(alert)
        now = datetime.now(timezone.utc)
        answer = bytearray()
        request = HTTPRequest(
            url, method="POST", body=body, follow_redirects=False,
            connect_timeout=self._timeout, request_timeout=self._timeout, ssl_options=self._tls,
            headers={"Content-Type": "application/json", "User-Agent": "Sensr-Webhooks/1",
                     **signed_headers(secret, message_id, now, body)},
            streaming_callback=lambda chunk: answer.extend(chunk[:_KEPT_ANSWER_BYTES - len(answer)]))
        try:
            response = await self._client.fetch(request, raise_error=False)
        except RefusedAddress as refused:
            return Attempt(Outcome.FAILED, error=str(refused))
        except HTTPTimeoutError:
            return Attempt(Outcome.RETRY, error=f"no answer within {self._timeout:g} s")
        except (OSError, HTTPClientError) as error:  # refused, reset, closed early, name not found, TLS
            return Attempt(Outcome.RETRY, error=f"connection failed: {error}")
        except HTTPInputError as error:
            return Attempt(Outcome.RETRY, error=f"malformed answer: {error}")
        return _attempt_from(response, bytes(answer), now)


def _attempt_from(response: HTTPResponse, answer: bytes, now: datetime) -> Attempt:
    outcome = outcome_of_status(response.code)
    if outcome is Outcome.DELIVERED:
        return Attempt(outcome, status=response.code)
    error = f"HTTP {response.code} {response.reason}"
    if 300 <= response.code < 400:
        error += f" (redirect to {response.headers.get('Location', '?')} not followed)"
    elif text := answer.decode(errors="replace").strip():
        error += f": {text}"
    return Attempt(outcome, status=response.code, error=error,
                   retry_after=retry_after_seconds(response.headers.get("Retry-After"), now))
