"""Failed logins slow down their client address, and that address's attempts at one
account, but never lock the account (issue 17, finding 9): the rules with a fake clock,
and the api answering 429 with Retry-After to the guesser while the owner, from another
address, logs in at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from api.login import LoginThrottle
from sensr.settings import ApiSettings
from tests.support.harness import S3Endpoint
from tests.support.api import PASSWORD, ApiStack, sign_up, stack_env, start_stack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, per_address: int = 100, per_address_account: int = 3) -> LoginThrottle:
    settings = ApiSettings(login_failures_per_address=per_address,
                           login_failures_per_address_account=per_address_account,
                           login_failure_delay=2.0, login_failure_max_delay=60.0, login_failure_window=300.0)
    return LoginThrottle.from_settings(settings, clock)


def test_guessing_at_an_account_slows_the_guesser_not_the_owner() -> None:
    clock = Clock()
    logins = throttle(clock)
    for _ in range(10):
        clock.now += logins.retry_after("10.0.0.66", "ada@example.com")
        logins.failed("10.0.0.66", "ada@example.com")
    assert logins.retry_after("10.0.0.66", "ada@example.com") == pytest.approx(60)  # 2, 4, ... capped
    assert logins.retry_after("10.0.0.1", "ada@example.com") == 0  # the owner, elsewhere
    assert logins.retry_after("10.0.0.66", "bob@example.com") == 0  # within the address's limit


def test_an_address_failing_at_many_accounts_is_slowed_for_all() -> None:
    clock = Clock()
    logins = throttle(clock, per_address=4)
    for n in range(5):
        logins.failed("10.0.0.66", f"user{n}@example.com")
    assert logins.retry_after("10.0.0.66", "new@example.com") == pytest.approx(2)
    assert logins.retry_after("10.0.0.2", "new@example.com") == 0


def test_success_clears_the_address_and_account_but_not_the_address() -> None:
    clock = Clock()
    logins = throttle(clock, per_address=5, per_address_account=1)
    logins.failed("10.0.0.1", "ada@example.com")
    logins.failed("10.0.0.1", "ada@example.com")
    clock.now += 2
    logins.succeeded("10.0.0.1", "ada@example.com")
    logins.failed("10.0.0.1", "ada@example.com")
    assert logins.retry_after("10.0.0.1", "ada@example.com") == 0  # counted from zero again
    for n in range(3):
        logins.failed("10.0.0.1", f"user{n}@example.com")
    assert logins.retry_after("10.0.0.1", "carol@example.com") > 0  # six failures of the address


class SourceAddress(HTTPAdapter):
    """Connects from a chosen local address (any of 127.0.0.0/8 on loopback)."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def client(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", SourceAddress(address))
    return session


@pytest.fixture(scope="module")
def strict_api(kafka_bootstrap: str, s3_endpoint: S3Endpoint, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[ApiStack]:
    data_dir = tmp_path_factory.mktemp("throttle")
    env = stack_env(kafka_bootstrap, s3_endpoint, f"sqlite:///{data_dir / 'sensr.sqlite'}", data_dir,
                    SENSR_LOGIN_FAILURES_PER_ADDRESS_ACCOUNT="3", SENSR_LOGIN_FAILURES_PER_ADDRESS="6",
                    SENSR_LOGIN_FAILURE_DELAY="60")
    stack = start_stack(env, data_dir)
    yield stack
    stack.stop()


def test_guessers_do_not_lock_the_owner_out(strict_api: ApiStack) -> None:
    """Four addresses guess four times each at one account (more than the ten failures
    that used to lock it for everyone): each is slowed, the owner logs in at once."""
    ada, bob = sign_up(strict_api), sign_up(strict_api)
    guessers, owner = [client(f"127.0.0.{n}") for n in range(66, 70)], client("127.0.0.2")

    def login(session: requests.Session, email: str, password: str) -> requests.Response:
        return session.post(strict_api.api("/tokens"), json={"email": email, "password": password}, timeout=30)

    for guesser in guessers:
        assert [login(guesser, ada.email, "wrong password").status_code for _ in range(4)] == [401] * 4
    slowed = login(guessers[0], ada.email, PASSWORD)  # even the right password waits its turn
    assert slowed.status_code == 429 and slowed.json()["error"] == "rate_limited"
    assert 50 <= int(slowed.headers["Retry-After"]) <= 60
    assert login(owner, ada.email, PASSWORD).status_code == 201  # the owner, at once
    assert login(guessers[0], bob.email, PASSWORD).status_code == 201  # the guesser's other account
    assert [login(guessers[0], bob.email, "wrong password").status_code for _ in range(3)] == [401] * 3
    assert login(guessers[0], f"nobody@{bob.email.split('@')[1]}", PASSWORD).status_code == 429  # 7 from there
    assert login(owner, bob.email, PASSWORD).status_code == 201
