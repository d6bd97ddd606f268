"""ingest_http wired together: camera logins, producer, readiness and the HTTP server,
run by `sensr.lifecycle.run_async_service`."""

from __future__ import annotations

import asyncio

from kafka import KafkaProducer
from kafka.errors import KafkaError
from tornado.httpserver import HTTPServer

from ingest_http.app import make_app
from ingest_http.idle import IdleWatch
from ingest_http.logins import LoginWatch
from ingest_http.publisher import Publisher
from ingest_http.throttle import LoginThrottle
from ingest_http.upload import UploadContext
from sensr.broker import FRAMES, close_quietly, ensure_topics, make_producer
from sensr.cameras import CameraTable
from sensr.kafka_compat import ProducerState
from sensr.lifecycle import Stopped, kafka_reachable, wait_for_async
from sensr.logs import get_logger
from sensr.health import PeriodicProbe
from sensr.settings import Settings

log = get_logger(__name__)

UNLIMITED_BODY = 1 << 62
"""Tornado's whole-body limit is off: photos enforce the frame limit themselves (413),
streams have none (the limit is per frame)."""

READ_CHUNK = 256 * 1024
"""Socket reads and `data_received` calls of up to this size: a 100 KB photo arrives in
one piece, a stream in few (Tornado hands over what it has instead of waiting to fill it)."""

DRAIN_GRACE = 10.0
"""Seconds the uploads under way get to be answered once a stop is requested."""


class IngestHttpService:
    """An `AsyncService`: `start`, `drain` and `close` run on the event loop; `stop` is
    set when the service is asked to stop."""

    def __init__(self, settings: Settings, stop: asyncio.Event) -> None:
        self._settings = settings
        self._stop = stop
        core, kafka, http = settings.core, settings.kafka, settings.http
        self.cameras = CameraTable(core, kafka)
        self.publisher = Publisher(ack_timeout=kafka.kafka_request_timeout_ms / 1000)
        self._producer: KafkaProducer | None = None
        self._kafka_probe = PeriodicProbe(
            "kafka_reachable", lambda: asyncio.to_thread(kafka_reachable, kafka.kafka_bootstrap), False)
        self._warm = False
        self._stopping = False
        self._warm_task: asyncio.Task[None] | None = None
        context = UploadContext(
            cameras=self.cameras,
            logins=LoginWatch(self.cameras),
            publisher=self.publisher,
            throttle=LoginThrottle(http.auth_failure_limit, http.auth_failure_delay),
            max_frame_bytes=core.max_frame_bytes,
            max_frame_pixels=core.max_frame_pixels,
            idle=IdleWatch(http.http_idle_timeout),
            stream_in_flight_bytes=http.http_stream_in_flight_bytes,
            accepting=self.accepting,
        )
        self.server = HTTPServer(make_app(context, self.readiness),
                                 idle_connection_timeout=http.http_header_timeout,
                                 body_timeout=None, max_body_size=UNLIMITED_BODY, chunk_size=READ_CHUNK)

    async def start(self) -> None:
        """Listen at once (health answers while starting); uploads wait for readiness."""
        http = self._settings.http
        self.cameras.start()
        self._kafka_probe.start()
        self._warm_task = asyncio.create_task(self._warm_up(), name="kafka-warm-up")
        self.server.listen(http.http_port, http.http_host)
        log.info("listening", host=http.http_host, port=http.http_port)

    def accepting(self) -> bool:
        """Uploads are taken once the logins are loaded and `sensr.frames`' partitions
        are known (before that, the producer's send could block the event loop)."""
        return self._warm and self.cameras.loaded.is_set() and not self._stopping

    def readiness(self) -> dict[str, bool]:
        """Ready means an upload would be stored now: `kafka_delivers` is the publisher's
        view of the producer (see `FramePublisher.blockers`)."""
        return {"cameras_loaded": self.cameras.loaded.is_set(), "frames_topic": self._warm,
                "kafka_reachable": self._kafka_probe.latest, "kafka_delivers": not self.publisher.blockers()}

    async def _warm_up(self) -> None:
        """Create the topics if missing, make the producer and learn `sensr.frames`'
        partitions, in a thread (each step blocks while Kafka is away), until it works."""
        try:
            self._producer = await wait_for_async(
                "kafka", lambda: asyncio.to_thread(self._connect), self._stop,
                max_delay=self._settings.core.dependency_wait_max_seconds, errors=(KafkaError, OSError))
        except Stopped:
            return
        except Exception:  # not a Kafka outage: uploads could never be taken, so stop (and say why)
            log.exception("kafka_warm_up_failed")
            self._stop.set()
            return
        self.publisher.use(self._producer, ProducerState(self._producer, FRAMES))
        self._warm = True
        log.info("kafka_warm")

    def _connect(self) -> KafkaProducer:
        core, kafka = self._settings.core, self._settings.kafka
        ensure_topics(core, kafka)
        producer = make_producer(core, kafka, client_id="sensr-ingest-http")
        try:
            producer.partitions_for(FRAMES)
        except Exception:
            producer.close(0)
            raise
        return producer

    async def drain(self) -> None:
        """Stop accepting, give open uploads `DRAIN_GRACE` seconds, then close the connections.

        Tornado's `close_all_connections` closes every connection at once, also those
        whose frame Kafka is about to acknowledge: such a frame would be stored while its
        camera, cut off without an answer, uploads it again. So first new requests are
        refused (503, also on kept-alive connections), the frames already sent get their
        acknowledgement and their answer, and only then are the connections closed.
        """
        self._stopping = True
        self.server.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_GRACE
        while self.publisher.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # the handlers of the last acknowledged frames write their answers
        try:
            await asyncio.wait_for(self.server.close_all_connections(), max(deadline - loop.time(), 1.0))
        except asyncio.TimeoutError:
            log.warning("shutdown_connections_left_open", grace=DRAIN_GRACE)

    async def close(self) -> None:
        """Stop the warm-up and the probe, flush the producer, stop following the logins
        (after `drain`, or at once on a second signal)."""
        self._stopping = True
        self.server.stop()
        if self._warm_task is not None:
            self._warm_task.cancel()
        await self._kafka_probe.stop()
        self.publisher.close()
        if self._producer is not None:
            producer = self._producer
            await asyncio.to_thread(close_quietly, "producer", lambda: producer.close(DRAIN_GRACE))
        await asyncio.to_thread(self.cameras.stop)
