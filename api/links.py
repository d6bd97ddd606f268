"""The base of every absolute URL the api hands out (share links, a camera's public link).

It comes from the configuration only, never from the request: a request's Host header is
whatever its sender wrote, and a share link minted from it could point anywhere.
`SENSR_PUBLIC_URL` is the base as users reach the api (behind a proxy, the proxy's URL);
when it is empty, `http://<SENSR_PUBLIC_HOST>:<SENSR_API_PORT>` is used, which is right
for a direct installation and said at start-up (`warn_if_unset`).
"""

from __future__ import annotations

from sensr.logs import get_logger
from sensr.settings import Settings

log = get_logger(__name__)


def public_base_url(settings: Settings) -> str:
    """`SENSR_PUBLIC_URL` without a trailing slash, or the default built from the public
    host and the api's port."""
    configured = settings.api.public_url.rstrip("/")
    if configured:
        return configured
    host = settings.core.public_host
    bracketed = f"[{host}]" if ":" in host else host
    port = settings.api.api_port
    return f"http://{bracketed}" + ("" if port == 80 else f":{port}")


def warn_if_unset(settings: Settings) -> None:
    """Log, once at start-up, that links are built from the default base."""
    if not settings.api.public_url.strip():
        log.warning("public_url_not_set", using=public_base_url(settings),
                    hint="set SENSR_PUBLIC_URL to the api's URL as users reach it; share links are built from it")
