"""Failed logins are limited per client address and per account: the rules with a fake
clock, and the api answering 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from api.throttle import LoginThrottle
from tests.harness import S3Endpoint
from tests.test_api_support import PASSWORD, ApiStack, sign_up, stack_env, start_stack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_account_is_locked_after_its_limit_until_the_window_passes() -> None:
    clock = Clock()
    throttle = LoginThrottle(per_address=100, per_account=3, window=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1", "ada@example.com") == 0
        throttle.failed("10.0.0.1", "ada@example.com")
        clock.now += 1
    assert throttle.retry_after("10.0.0.9", "ada@example.com") == pytest.approx(57)  # any address
    assert throttle.retry_after("10.0.0.1", "bob@example.com") == 0
    clock.now += 57
    assert throttle.retry_after("10.0.0.1", "ada@example.com") == 0


def test_an_address_is_locked_after_its_limit_whatever_the_account() -> None:
    clock = Clock()
    throttle = LoginThrottle(per_address=4, per_account=100, window=60, clock=clock)
    for n in range(4):
        throttle.failed("10.0.0.1", f"user{n}@example.com")
    assert throttle.retry_after("10.0.0.1", "new@example.com") == pytest.approx(60)
    assert throttle.retry_after("10.0.0.2", "new@example.com") == 0


def test_success_clears_the_account_but_not_the_address() -> None:
    throttle = LoginThrottle(per_address=3, per_account=2, window=60, clock=Clock())
    throttle.failed("10.0.0.1", "ada@example.com")
    throttle.failed("10.0.0.1", "ada@example.com")
    throttle.succeeded("ada@example.com")
    assert throttle.retry_after("10.0.0.2", "ada@example.com") == 0
    throttle.failed("10.0.0.1", "bob@example.com")
    assert throttle.retry_after("10.0.0.1", "carol@example.com") > 0


@pytest.fixture(scope="module")
def strict_api(kafka_bootstrap: str, s3_endpoint: S3Endpoint, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[ApiStack]:
    data_dir = tmp_path_factory.mktemp("throttle")
    env = stack_env(kafka_bootstrap, s3_endpoint, f"sqlite:///{data_dir / 'sensr.sqlite'}", data_dir,
                    SENSR_LOGIN_FAILURES_PER_ACCOUNT="3", SENSR_LOGIN_FAILURES_PER_ADDRESS="6")
    stack = start_stack(env, data_dir)
    yield stack
    stack.stop()


def test_the_api_refuses_logins_past_the_limits(strict_api: ApiStack) -> None:
    ada, bob = sign_up(strict_api), sign_up(strict_api)

    def login(email: str, password: str) -> requests.Response:
        return requests.post(strict_api.api("/tokens"), json={"email": email, "password": password}, timeout=30)

    assert [login(ada.email, "wrong password").status_code for _ in range(3)] == [401, 401, 401]
    locked = login(ada.email, PASSWORD)
    assert locked.status_code == 429 and locked.json()["error"] == "rate_limited"
    assert int(locked.headers["Retry-After"]) > 0
    assert login(bob.email, PASSWORD).status_code == 201  # another account: fine
    assert [login(bob.email, "wrong password").status_code for _ in range(3)] == [401, 401, 401]
    assert login(f"nobody@{bob.email.split('@')[1]}", PASSWORD).status_code == 429  # the address is at 6
