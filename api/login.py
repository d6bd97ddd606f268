"""Logging in with an e-mail address and a password: the one flow behind `POST
/api/v1/tokens` and the web UI's login form (`LoginFlow`), and its throttle.

Failed logins slow the guesser down; they never lock an account. `LoginThrottle` is two
`sensr.throttle.FailureBackoff`s: one per client address and account, one per client
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
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import Counter

from api.errors import InvalidInput, RateLimited, Unauthorized
from api.users import User, UserService, normalize_email
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


class LoginFlow:
    """Checks credentials under the throttle. Use it from the event loop only (the
    throttle's rule); the password check runs in the worker pool through `run`."""

    def __init__(self, users: UserService, throttle: LoginThrottle,
                 run: Callable[..., Awaitable[Any]]) -> None:
        self._users = users
        self._throttle = throttle
        self._run = run

    async def authenticate(self, address: str, email: str, password: str) -> User:
        """The user with these credentials, for a login from client `address`. Raises
        RateLimited when `address` (or `address` at this account) failed too often lately,
        before any password is checked, so a flood costs no hashing; Unauthorized for wrong
        credentials (a failure counted); InvalidInput for an address no account can hold."""
        account = account_key(email)
        wait = self._throttle.retry_after(address, account)
        if wait > 0:
            raise RateLimited("too many failed logins; try again later", retry_after=wait)
        user: User | None = await self._run(self._users.authenticate, email, password)
        if user is None:
            self._throttle.failed(address, account)
            raise Unauthorized("wrong e-mail address or password")
        self._throttle.succeeded(address, account)
        return user


def account_key(email: str) -> str:
    """The account a login attempt aims at, as the throttle counts it: the normalized
    address, or whatever was typed, trimmed and lower-cased, when it is none."""
    try:
        return normalize_email(email)
    except InvalidInput:
        return email.strip().lower()
