"""Push services through Apprise: one URL per rule (`ntfy://`, `tgram://`, `pover://`,
`slack://`, `discord://`, `matrix://`, `json://`...), so Sensr writes none of those clients.

What the egress guard can and cannot do here. Apprise makes its own HTTP calls
(`requests`) and offers no hook for the address it connects to, so:

- For services whose URL names the server to call (self-hosted ntfy, Gotify, Matrix,
  Mattermost, Home Assistant, the generic `json://`, `xml://`, `form://`...), that host
  is resolved and checked against the egress policy before sending; a refused address
  fails the delivery for good. Apprise resolves the name again when it connects, so a
  name that changes its answer in between (DNS rebinding) is not stopped: allow such
  services by address, or keep the notifier behind an egress firewall.
- Cloud services (Telegram, Pushover, Slack, Discord, ntfy.sh...) call the service's
  own public host, fixed by Apprise; the URL carries tokens, not a host, and nothing
  is checked.
- Redirects are never followed (`http_redirects=False`), so a checked server cannot
  send the call on to an internal address.
"""

from __future__ import annotations

from dataclasses import dataclass

import apprise
from apprise.attachment.memory import AttachMemory

from notifier.egress import EgressPolicy, RefusedAddress, check_host
from notifier.message import Alert

# Apprise schemes whose URL host is the server Apprise calls, except in their cloud
# modes (`ntfy://topic` goes to ntfy.sh, `matrix://token?mode=t2bot` to t2bot.io).
SELF_HOSTED_SCHEMES = frozenset({
    "json", "jsons", "xml", "xmls", "form", "forms", "ntfy", "ntfys", "gotify", "gotifys",
    "apprise", "apprises", "mmost", "mmosts", "matrix", "matrixs", "rocket", "rockets",
    "ncloud", "nclouds", "nctalk", "nctalks", "hassio", "hassios",
})


class InvalidPushUrl(ValueError):
    """Apprise does not know the URL's service, or the URL lacks what the service needs."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """Whether the service accepted the alert and, if not, what Apprise said."""

    delivered: bool
    error: str | None = None
    refused: bool = False  # the server's address is refused: retrying cannot help


def _asset(timeout: float) -> apprise.AppriseAsset:
    return apprise.AppriseAsset(http_redirects=False, service_timeout=timeout)


def push_service(url: str, timeout: float = 30.0) -> apprise.NotifyBase:
    """The Apprise service for `url`, or `InvalidPushUrl` (for checking a rule when it is saved)."""
    service = apprise.Apprise.instantiate(url, asset=_asset(timeout))
    if service is None:
        raise InvalidPushUrl("not a push-service URL Apprise can use (see https://appriseit.com/services/)")
    return service


def server_of(service: apprise.NotifyBase) -> tuple[str, int] | None:
    """The (host, port) `service` will call, when its URL names it; None for cloud services."""
    if service.schema not in SELF_HOSTED_SCHEMES or getattr(service, "mode", None) in ("cloud", "t2bot"):
        return None
    host = service.host.removeprefix("[").removesuffix("]")  # Apprise keeps an IPv6 literal's brackets
    return host, service.port or (443 if service.secure else 80)


class PushSender:
    """Sends alerts to push-service URLs through Apprise, within the egress policy."""

    def __init__(self, policy: EgressPolicy, timeout: float) -> None:
        self._policy = policy
        self._timeout = timeout

    async def send(self, url: str, alert: Alert) -> PushResult:
        """Send `alert` (title, text with link, key frame attached) to the service at `url`."""
        try:
            service = push_service(url, self._timeout)
            if server := server_of(service):
                await check_host(self._policy, *server)
        except InvalidPushUrl as invalid:
            return PushResult(False, str(invalid), refused=True)
        except RefusedAddress as refused:
            return PushResult(False, str(refused), refused=True)
        except OSError as error:  # the server's name does not resolve (now)
            return PushResult(False, f"cannot resolve the service's host: {error}")
        notifier = apprise.Apprise(asset=_asset(self._timeout))
        notifier.add(service)
        result = await notifier.async_notify(body=alert.text(), title=alert.title(), attach=_attachment(alert))
        if result:
            return PushResult(True)
        said = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
        return PushResult(False, " ".join(said) or f"the service did not accept the alert ({result.status.name})")


def _attachment(alert: Alert) -> apprise.AppriseAttachment | None:
    if alert.key_frame is None:
        return None
    stamp = alert.local_time.strftime("%Y%m%d-%H%M%S")
    return apprise.AppriseAttachment(AttachMemory(content=alert.key_frame, name=f"{alert.camera_id}-{stamp}.jpg",
                                                  mimetype="image/jpeg"))
