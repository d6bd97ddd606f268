"""Failed logins slow the guesser down; they never lock an account.

Two `sensr.throttle.FailureBackoff`s: one per client address and account, one per client
address. Past its free failures a key must wait before its next login attempt (429 with
Retry-After, before any password is checked, so a flood costs no hashing), the wait
doubling with each further failure. Nothing is counted per account alone: whoever guesses
at an account slows down only their own attempts, and the owner logging in from another
address gets in at once. A successful login clears its address-and-account failures, not
its address's (one attacker may own an account and guess at others).

The counts live in this process: behind several api replicas each keeps its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Counter

from sensr.settings import ApiSettings
from sensr.throttle import FailureBackoff

THROTTLED = Counter("sensr_api_logins_throttled", "Login attempts answered 429 because their client address "
                    "(or address and account) failed too often lately")


class LoginThrottle:
    """Not thread-safe: use it from the event loop only."""

    def __init__(self, per_address: FailureBackoff, per_address_account: FailureBackoff) -> None:
        self._addresses = per_address
        self._attempts = per_address_account

    @classmethod
    def from_settings(cls, api: ApiSettings, clock: Callable[[], float] = time.monotonic) -> LoginThrottle:
        def backoff(free: int) -> FailureBackoff:
            return FailureBackoff(free, api.login_failure_delay, api.login_failure_max_delay,
                                  api.login_failure_window, clock=clock)

        return cls(backoff(api.login_failures_per_address), backoff(api.login_failures_per_address_account))

    def retry_after(self, address: str, account: str) -> float:
        """Seconds until a login from `address` to `account` may be tried; 0 when now.
        Call it once per attempt: a refused attempt is counted (`THROTTLED`)."""
        wait = max(self._addresses.retry_after(address), self._attempts.retry_after((address, account)))
        if wait > 0:
            THROTTLED.inc()
        return wait

    def failed(self, address: str, account: str) -> None:
        self._addresses.failed(address)
        self._attempts.failed((address, account))

    def succeeded(self, address: str, account: str) -> None:
        self._attempts.succeeded((address, account))
