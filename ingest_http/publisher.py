"""ingest_http's side of `sensr.publisher.FramePublisher`: each frame's answer as an
asyncio future, which the photo handler awaits and a stream watches with callbacks.

`send` hands a frame to the producer at once, on the loop thread, so a stream's frames
enter Kafka in the order they were split. The future resolves when Kafka acknowledged
the frame, or fails with `PublishError` (the upload gets 503) when it did not within
`ack_timeout`; the rule behind it, and the metrics, are `sensr.publisher`'s.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sensr.frames import FrameEvent
from sensr.kafka_compat import ProducerState
from sensr.publisher import AsyncioLoop, FramePublisher, Refusal

EDGE = "http"


class PublishError(Exception):
    """Kafka did not acknowledge a frame (broker unreachable, timeout, or a send error)."""


class Publisher:
    """Publishes frame events and reports each acknowledgement as an asyncio future."""

    def __init__(self, ack_timeout: float) -> None:
        self._ack_timeout = ack_timeout
        self._core: FramePublisher | None = None

    def use(self, producer: Any, state: ProducerState | None = None) -> None:
        """Publish through `producer`, whose `sensr.frames` metadata is known (see
        `FramePublisher.use` for `state`). Called on the event loop before uploads are taken."""
        self._core = FramePublisher(AsyncioLoop(asyncio.get_running_loop()), EDGE, self._ack_timeout)
        self._core.use(producer, state)

    @property
    def in_flight(self) -> int:
        """Frames handed to the producer and not yet answered."""
        return self._core.in_flight if self._core is not None else 0

    def blockers(self) -> list[str]:
        """Why an upload taken now would not be stored at once (`FramePublisher.blockers`)."""
        return self._core.blockers() if self._core is not None else ["no_producer"]

    def send(self, event: FrameEvent) -> asyncio.Future[None]:
        """Hand `event` to the producer now; the future settles on Kafka's answer.

        Must be called on the event loop thread, after `use()`. Never raises: a send that
        fails at once gives an already-failed future.
        """
        core = self._core
        assert core is not None, "Publisher.use() was not called"
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def answer(refusal: Refusal | None) -> None:
            if acked.done():
                return  # the awaiting handler was cancelled (client gone)
            if refusal is None:
                acked.set_result(None)
            else:
                acked.set_exception(PublishError(refusal.detail))

        core.publish(event, answer)
        return acked

    async def publish(self, event: FrameEvent) -> None:
        """Send `event` and wait for its acknowledgement; raises PublishError."""
        await self.send(event)

    def close(self) -> None:
        if self._core is not None:
            self._core.close()
