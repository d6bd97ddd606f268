"""The base of every absolute URL Sensr hands out: share links (the api), links to an
event or a camera in alerts (the notifier).

It comes from the configuration only, never from a request: a request's Host header is
whatever its sender wrote, and a link minted from it could point anywhere.
`SENSR_PUBLIC_URL` is the base as users reach the api (behind a proxy, the proxy's URL);
when it is empty, `http://<SENSR_PUBLIC_HOST>:<SENSR_API_PORT>` is used, which is right
for a direct installation (the api says so at start-up).
"""

from __future__ import annotations

from sensr.settings import Settings


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
