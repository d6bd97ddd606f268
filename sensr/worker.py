"""`Worker`: the one shape of a service that consumes Kafka on its main thread (the
catalog, activity and clip workers), as a `sensr.lifecycle.Service`.

A worker says only what it connects (`connect`, returning its consumer loop) and what
its /readyz adds (`ready`); this class gives every worker the same rest: start → serve →
drain → close, the ops server (/healthz /readyz /metrics), each dependency waited for with
the lifecycle's one backoff policy, and everything opened closed in reverse order, also
when start-up is cut short by a stop or an error. Closing in reverse matters: the
consumer (opened last) leaves its group first, so the other replicas take its partitions
over at once, before the producer, the index and the store close.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, Protocol, TypeVar

from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError

from sensr.background import BackgroundLoop
from sensr.broker import close_quietly, ensure_topics, make_consumer, make_producer
from sensr.health import OpsServer
from sensr.index import FrameIndex
from sensr.lifecycle import wait_for
from sensr.logs import get_logger
from sensr.settings import Settings

log = get_logger(__name__)
T = TypeVar("T")


class Loop(Protocol):
    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; commit the batch in hand before returning."""


class Worker:
    name: str
    """The service's name: its log events are `<name>_started` and `<name>_stopped`."""
    dependencies: tuple[str, ...] = ()
    """What the loop's `failing` attribute may name; /readyz reports each as up unless named."""

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self._settings, self._stop = settings, stop
        self._loop: Loop | None = None
        self._resources = ExitStack()

    def connect(self, resources: ExitStack) -> Loop:
        """Open the dependencies (`wait_for` each), registering on `resources` how to close
        them; return the loop `serve` runs."""
        raise NotImplementedError

    def ready(self) -> dict[str, bool]:
        """/readyz: the loop runs and no dependency is failing it (a worker adds its own checks)."""
        failing = getattr(self._loop, "failing", None)
        return {"consuming": self._loop is not None,
                **{dependency: failing != dependency for dependency in self.dependencies}}

    def start(self) -> None:
        """Connect the dependencies, waiting for each; raises `sensr.lifecycle.Stopped`
        when asked to stop first (what was opened is closed then)."""
        with ExitStack() as resources:
            resources.callback(log.info, f"{self.name}_stopped")
            self._loop = self.connect(resources)
            self._resources = resources.pop_all()
        log.info(f"{self.name}_started")

    def serve(self) -> None:
        """Run the loop until the stop event is set."""
        assert self._loop is not None  # started
        self._loop.run(self._stop)

    def drain(self) -> None:
        """Nothing left to do: the loop finished the work in hand before `serve` returned."""

    def close(self) -> None:
        """Close what `start` opened, in reverse order (the consumer first)."""
        self._resources.close()

    # -- what `connect` builds with ------------------------------------------------------

    def wait_for(self, what: str, attempt: Callable[[], T], *errors: type[BaseException]) -> T:
        """`attempt()` until it succeeds, waiting with backoff after each of `errors`."""
        return wait_for(what, attempt, self._stop, max_delay=self._settings.core.dependency_wait_max_seconds,
                        errors=errors)

    def serve_ops(self, resources: ExitStack, host: str, port: int) -> None:
        """/healthz /readyz /metrics on `host:port` until closed."""
        ops = OpsServer(host, port, self.ready).start()
        resources.callback(ops.stop)
        log.info("ops_listening", host=host, port=ops.port)

    def wait_for_topics(self) -> None:
        self.wait_for("kafka topics", lambda: ensure_topics(self._settings.core, self._settings.kafka), KafkaError)

    def open_index(self, resources: ExitStack) -> FrameIndex:
        index = self.wait_for("index database", lambda: FrameIndex.open(self._settings.database_url()), DBAPIError)
        resources.callback(index.close)
        return index

    def open_producer(self, resources: ExitStack, client_id: str) -> Any:
        producer = make_producer(self._settings.core, self._settings.kafka, client_id=client_id)
        resources.callback(close_quietly, "producer", lambda: producer.close(10))
        return producer

    def open_consumer(self, resources: ExitStack, group_id: str, client_id: str, **options: Any) -> Any:
        """A consumer in `group_id`; closing it leaves the group without committing."""
        consumer = make_consumer(self._settings.core, self._settings.kafka, group_id=group_id, client_id=client_id,
                                 **options)
        resources.callback(close_quietly, "consumer", lambda: consumer.close(autocommit=False))
        return consumer

    def run_in_background(self, resources: ExitStack, loop: BackgroundLoop) -> None:
        """Start `loop` (sharing the worker's stop event) and join it on close; the stop
        event is set first, so it ends even when the main loop died of an error."""
        loop.start()
        resources.callback(loop.join, 30)
        resources.callback(self._stop.set)
