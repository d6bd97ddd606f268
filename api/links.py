"""The base of every absolute URL the api hands out (share links, a camera's public link):
`sensr.links.public_base_url`, shared with the notifier's alert links; and the warning at
start-up when it is only the default (`warn_if_unset`).
"""

from __future__ import annotations

from sensr.links import public_base_url
from sensr.logs import get_logger
from sensr.settings import Settings

log = get_logger(__name__)
__all__ = ["public_base_url", "warn_if_unset"]


def warn_if_unset(settings: Settings) -> None:
    """Log, once at start-up, that links are built from the default base."""
    if not settings.api.public_url.strip():
        log.warning("public_url_not_set", using=public_base_url(settings),
                    hint="set SENSR_PUBLIC_URL to the api's URL as users reach it; share links are built from it")
