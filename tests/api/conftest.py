"""Fixtures of the api's tests: the api alone or with the real edges, once per database kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from launcher.service_stack import S3Endpoint
from tests.support.api import ApiStack, drop_postgres_database, new_postgres_database, stack_env, start_stack
from tests.support.browser import Browser, chromium


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new, empty database of each kind in turn: the module's tests run once per kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'sensr.sqlite'}"
        return
    server = request.getfixturevalue("postgres_url")
    url, name = new_postgres_database(server)
    yield url
    drop_postgres_database(server, name)


@pytest.fixture(scope="module")
def api_stack(kafka_bootstrap: str, s3_endpoint: S3Endpoint, database_url: str,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    """The api alone, once per database kind."""
    data_dir = tmp_path_factory.mktemp("api")
    stack = start_stack(stack_env(kafka_bootstrap, s3_endpoint, database_url, data_dir), data_dir)
    yield stack
    stack.stop()



@pytest.fixture(scope="module")
def edge_stack(kafka_bootstrap: str, s3_endpoint: S3Endpoint, database_url: str,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    """The api with the real ingest_http and catalog_worker, once per database kind."""
    data_dir = tmp_path_factory.mktemp("stack")
    stack = start_stack(stack_env(kafka_bootstrap, s3_endpoint, database_url, data_dir), data_dir, edges=True)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new SQLite database, for modules whose tests see the same whatever the database
    (the browser tests): such a module overrides `database_url` with it."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'sensr.sqlite'}"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Debian's Chromium with a fresh profile, letting axe-core be injected past the
    pages' Content-Security-Policy (bypass_csp); the pages are the same."""
    with chromium(tmp_path_factory.mktemp("chromium-profile"), bypass_csp=True) as opened:
        yield opened


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new tab, logged out (each test signs up its own user); a script error on any
    page it showed fails the test."""
    browser.context.clear_cookies()
    tab = browser.context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert errors == [], errors
