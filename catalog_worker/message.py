"""The message the catalog worker's steps pass along: a payload and the place in the log
it came from.

Only the consumer loop (`consumer.ConsumerLoop`) touches kafka-python's records: it turns
each into a `Message[KafkaPayload]` and hands those to the batch's steps. A step that
turns a payload into something else (the record's bytes into a frame event, a frame
event into a frame with its shape) keeps the partition and offset with `replace`, as
arroyo's `Message.replace` does: whatever step a record has reached, its offset says
where to rewind and which original to dead-letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sensr.frames import Headers

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True, order=True)
class Partition:
    """A partition of a topic."""

    topic: str
    index: int


@dataclass(frozen=True, slots=True)
class KafkaPayload:
    """A consumed record's content, exactly as it was produced."""

    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True, slots=True)
class Message(Generic[T]):
    """A payload at `offset` of `partition`."""

    partition: Partition
    offset: int
    payload: T

    def replace(self, payload: U) -> Message[U]:
        """The same place in the log with another payload (what a step made of this one)."""
        return Message(self.partition, self.offset, payload)

    @property
    def origin(self) -> str:
        """`<topic>/<partition>/<offset>`, as dead letters name where they came from."""
        return f"{self.partition.topic}/{self.partition.index}/{self.offset}"
