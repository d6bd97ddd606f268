"""How many deliveries one replica sends at once, first attempts ahead of retries.

A replica sends at most `SENSR_NOTIFIER_CONCURRENCY` deliveries at once; of those, at
most `SENSR_NOTIFIER_RETRY_CONCURRENCY` may be retries (a delivery tried before). Retries
go to receivers that failed already, often dead or slow ones that hold a send for the
whole timeout: without their own, smaller share, a backlog of them coming due would
take every slot and a new alert to a healthy receiver would wait behind it. First
attempts (new alerts, test alerts, sends a crashed replica left unrecorded, deliveries
postponed before their first try) may use every slot.

The due loop asks `room()` how many of each it may claim, so what it claims starts at
once (a claimed delivery is leased; it should not sit in a queue while the lease runs).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sensr.deliveries import Delivery, DeliveryLog


@dataclass(frozen=True, slots=True)
class Room:
    """What may be claimed now: `total` deliveries, of which at most `retries` retries."""

    total: int
    retries: int


def is_retry(delivery: Delivery) -> bool:
    return delivery.attempts > 0


class SendSlots:
    def __init__(self, total: int, retries: int) -> None:
        self._total = total
        self._retry_share = min(retries, total)
        self._sending = asyncio.Semaphore(total)
        self._retrying = asyncio.Semaphore(self._retry_share)
        self._held = 0
        self._retries_held = 0
        """Sends admitted (waiting for a slot, or sending), all and retries."""

    def room(self) -> Room:
        free = max(0, self._total - self._held)
        return Room(free, min(free, max(0, self._retry_share - self._retries_held)))

    @asynccontextmanager
    async def turn(self, delivery: Delivery) -> AsyncIterator[None]:
        """Wait for the delivery's turn (a retry for a retry slot first), then hold a slot
        while the body runs. Counted in `room()` from the moment it is called."""
        retry = is_retry(delivery)
        self._held += 1
        self._retries_held += retry
        try:
            if retry:
                async with self._retrying, self._sending:
                    yield
            else:
                async with self._sending:
                    yield
        finally:
            self._held -= 1
            self._retries_held -= retry


def claim_due(deliveries: DeliveryLog, room: Room, now_us: int, lease_until_us: int) -> list[Delivery]:
    """Lease the due deliveries that fit in `room`: first attempts first, then retries in
    what is left of the retry share. Blocks (database); raises SQLAlchemy's errors."""
    first = deliveries.claim_due(now_us, lease_until_us, room.total, retries=False) if room.total else []
    left = min(room.retries, room.total - len(first))
    return first + (deliveries.claim_due(now_us, lease_until_us, left, retries=True) if left > 0 else [])
