"""The alert delivery log (sensr/deliveries.py), on SQLite and on a PostgreSQL database of
its own: a delivery is recorded once per rule, record and channel; a due delivery is
claimed by one caller only, even by threads racing for it; a lease that ran out (a crashed
sender) makes it due again; attempts are counted; the table matches its migration."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sensr.deliveries import DELIVERIES, Delivery, DeliveryLog, DeliveryState, new_delivery
from sensr.index import FrameIndex, metadata
from tests.support.api import drop_postgres_database, new_postgres_database

SECOND = 1_000_000


@pytest.fixture(params=["sqlite", "postgresql"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeliveryLog]:
    """A delivery log on a new, empty database of each kind."""
    if request.param == "sqlite":
        index = FrameIndex.open(f"sqlite:///{tmp_path / 'index.sqlite'}")
        yield DeliveryLog(index.engine)
        index.close()
        return
    server = request.getfixturevalue("postgres_url")
    url, name = new_postgres_database(server)
    index = FrameIndex.open(url)
    yield DeliveryLog(index.engine)
    index.close()
    drop_postgres_database(server, name)


def delivery(record_id: str = "ev1:start", rule_id: str = "r1", now_us: int = 100 * SECOND,
             lease_until_us: int | None = 110 * SECOND, **extra: str) -> Delivery:
    return new_delivery(rule_id=rule_id, record_id=record_id, channel="webhook", camera="cam1", camera_id="c1",
                        kind="motion.start", record="{}", now_us=now_us, lease_until_us=lease_until_us, **extra)


def test_a_delivery_is_recorded_once_per_rule_record_and_channel(log: DeliveryLog) -> None:
    first = delivery()
    assert log.add([first]) == [first]
    assert log.add([delivery()]) == []  # the same record again: nothing to send
    assert len(log.add([delivery(rule_id="r2"), delivery(record_id="ev2:start")])) == 2
    assert [d.delivery_id for d in log.for_record("ev1:start") if d.rule_id == "r1"] == [first.delivery_id]


def test_a_leased_delivery_is_not_due_until_its_lease_ends(log: DeliveryLog) -> None:
    held = delivery()
    log.add([held])
    assert log.claim_due(105 * SECOND, 200 * SECOND, 10) == []  # its sender is at work
    assert [d.delivery_id for d in log.claim_due(111 * SECOND, 200 * SECOND, 10)] == [held.delivery_id]
    assert log.claim_due(112 * SECOND, 300 * SECOND, 10) == []  # claimed again by the first claimer


def test_racing_claimers_take_each_delivery_once(log: DeliveryLog) -> None:
    deliveries = [delivery(record_id=f"ev{n}:start", lease_until_us=None) for n in range(40)]
    log.add(deliveries)
    with ThreadPoolExecutor(4) as pool:
        claims = list(pool.map(lambda _: log.claim_due(200 * SECOND, 300 * SECOND, 40), range(4)))
    taken = [d.delivery_id for claim in claims for d in claim]
    assert sorted(taken) == sorted(d.delivery_id for d in deliveries)


def test_attempts_are_counted_and_a_retry_is_due_at_its_time(log: DeliveryLog) -> None:
    sent = delivery()
    log.add([sent])
    log.record_attempt(sent.delivery_id, state=DeliveryState.PENDING, status=503, error="HTTP 503",
                       now_us=101 * SECOND, next_attempt_us=106 * SECOND)
    assert log.claim_due(105 * SECOND, 150 * SECOND, 10) == []
    retry = log.claim_due(106 * SECOND, 150 * SECOND, 10)[0]
    assert (retry.attempts, retry.last_status, retry.first_attempt_us) == (1, 503, 101 * SECOND)
    log.record_attempt(sent.delivery_id, state=DeliveryState.DELIVERED, status=200, error=None, now_us=107 * SECOND)
    done = log.get(sent.delivery_id)
    assert done is not None and (done.state, done.attempts, done.first_attempt_us, done.lease_until_us) == (
        DeliveryState.DELIVERED, 2, 101 * SECOND, None)
    assert log.claim_due(10_000 * SECOND, 10_001 * SECOND, 10) == []


def test_retries_and_first_attempts_are_claimed_apart(log: DeliveryLog) -> None:
    tried, new = delivery(record_id="ev1:start", lease_until_us=None), delivery(record_id="ev2:start", lease_until_us=None)
    log.add([tried, new])
    log.record_attempt(tried.delivery_id, state=DeliveryState.PENDING, status=503, error=None, now_us=101 * SECOND,
                       next_attempt_us=102 * SECOND)
    assert [d.delivery_id for d in log.claim_due(103 * SECOND, 150 * SECOND, 10, retries=False)] == [new.delivery_id]
    assert [d.delivery_id for d in log.claim_due(103 * SECOND, 150 * SECOND, 10, retries=True)] == [tried.delivery_id]


def test_spacing_counts_only_deliveries_that_were_not_skipped(log: DeliveryLog) -> None:
    log.add([delivery(now_us=100 * SECOND), delivery(record_id="ev2:start", now_us=150 * SECOND,
                                                     skipped_because="spacing")])
    assert log.last_sent_us("r1", ["motion.start"]) == 100 * SECOND
    assert log.last_sent_us("r1", ["camera.offline"]) is None


def test_the_migration_builds_the_table_the_code_declares(log: DeliveryLog) -> None:
    with log._engine.connect() as conn:  # noqa: SLF001 (the engine the log was given)
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if DELIVERIES.name in repr(d)] == []
