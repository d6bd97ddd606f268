"""`notifier.slots`: the retry share of the send slots, and what the due loop may claim."""

from __future__ import annotations

import asyncio
import dataclasses

from notifier.slots import Room, SendSlots
from sensr.deliveries import Delivery, new_delivery


def delivery(n: int, attempts: int) -> Delivery:
    first = new_delivery(rule_id=f"r{n}", record_id=f"rec{n}", channel="webhook", camera="cam", camera_id="id-cam",
                         kind="camera.offline", record=None, now_us=1, lease_until_us=None)
    return dataclasses.replace(first, attempts=attempts)


def test_retries_hold_only_their_share_and_first_attempts_the_rest() -> None:
    async def run() -> None:
        slots = SendSlots(total=4, retries=2)
        release = asyncio.Event()
        started: list[str] = []

        async def send(item: Delivery) -> None:
            async with slots.turn(item):
                started.append(item.rule_id)
                await release.wait()

        assert slots.room() == Room(4, 2)
        tasks = [asyncio.create_task(send(delivery(n, attempts=1))) for n in range(3)]
        await asyncio.sleep(0)  # let each task take (or wait for) its slot
        assert started == ["r0", "r1"]  # the third retry waits for a retry slot
        assert slots.room() == Room(1, 0)
        tasks += [asyncio.create_task(send(delivery(n, attempts=0))) for n in range(3, 5)]
        await asyncio.sleep(0)
        assert started == ["r0", "r1", "r3", "r4"]  # first attempts take the free slots at once
        assert slots.room() == Room(0, 0)
        release.set()
        await asyncio.gather(*tasks)
        assert sorted(started) == ["r0", "r1", "r2", "r3", "r4"] and slots.room() == Room(4, 2)

    asyncio.run(run())


def test_a_retry_share_above_the_total_is_the_total() -> None:
    assert SendSlots(total=2, retries=8).room() == Room(2, 2)
