"""Wiring and running ingest_ftp: settings -> camera table -> producer -> FTP server.

Start-up order matters: the FTP port opens only once the camera table has caught up with
`sensr.cameras` (before that every login would be refused), and `/readyz` says so.

Shutdown (SIGTERM/SIGINT, through `sensr.lifecycle.run_service`) drains: the port closes,
new uploads are refused with `421`, and the uploads under way (arriving, or awaiting
Kafka's acknowledgement) are answered before the sessions close, for up to the Kafka
timeout. A camera cut off without an answer would send the frame again, possibly under a
new name, and it would be stored twice. A second signal stops at once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kafka.errors import KafkaError
from pyftpdlib.handlers.ftp.dispatchers import ActiveDTP
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from ingest_ftp.admission import Admission
from ingest_ftp.authorizer import CameraAuthorizer
from ingest_ftp.filesystem import CameraTrees
from ingest_ftp.handler import AnnouncedPassiveDTP, CameraHandler, SessionServices, UploadDTP, end_revoked_sessions
from ingest_ftp.limits import CameraSessions, FailedLogins, FrameRate
from ingest_ftp.publisher import FramePublisher
from ingest_ftp.pyftpdlib_compat import waiting_upload
from ingest_ftp.recent import RecentUploads
from sensr.broker import FRAMES, ensure_topics, make_producer
from sensr.cameras import CameraTable
from sensr.lifecycle import service_main, wait_for
from sensr.logs import get_logger
from sensr.health import OpsServer
from sensr.settings import Settings

log = get_logger(__name__)

POLL_SECONDS = 0.5
"""The longest the loop sleeps in one poll, so a stop request is noticed that soon."""

LOGIN_CHECK_SECONDS = 0.5
"""How often open sessions are checked against the camera table, so that a changed
password, a disabled or a deleted camera ends them within a second or so."""


def parse_port_range(text: str) -> range:
    """`"30000-30049"` -> range(30000, 30050); raises ValueError on anything else."""
    low, _, high = text.partition("-")
    first, last = int(low), int(high or low)
    if not 1024 <= first <= last <= 65535:
        raise ValueError(f"passive port range {text!r} is not `low-high` within 1024-65535")
    return range(first, last + 1)


def build_handler(settings: Settings, table: CameraTable, services: SessionServices) -> type[CameraHandler]:
    """The handler class for this configuration (pyftpdlib is configured by class attributes)."""
    ftp = settings.ftp
    base: type[CameraHandler] = CameraHandler
    tls: dict[str, Any] = {}
    if ftp.ftp_tls_cert is not None:
        from ingest_ftp.tls import TlsCameraHandler  # needs pyOpenSSL, only with a certificate

        base = TlsCameraHandler
        tls = {"certfile": str(ftp.ftp_tls_cert), "keyfile": str(ftp.ftp_tls_key or ftp.ftp_tls_cert),
               "tls_control_required": ftp.ftp_tls_required, "tls_data_required": ftp.ftp_tls_required,
               "ssl_context": None}
    elif ftp.ftp_tls_required:
        raise ValueError("SENSR_FTP_TLS_REQUIRED needs a certificate in SENSR_FTP_TLS_CERT")
    stall = {"timeout": ftp.ftp_data_timeout}
    return type("ConfiguredCameraHandler", (base,), {
        "services": services,
        "authorizer": CameraAuthorizer(table),
        "dtp_handler": type("DataChannel", (base.dtp_handler,), stall),
        "passive_dtp": type("PassiveListener", (AnnouncedPassiveDTP,), stall),
        "active_dtp": type("ActiveConnector", (ActiveDTP,), stall),
        "timeout": ftp.ftp_idle_timeout,
        "login_timeout": ftp.ftp_login_timeout,
        "passive_ports": parse_port_range(ftp.ftp_passive_ports),
        "masquerade_address": ftp.ftp_masquerade_address,
        **tls,
    })


class FtpIngest:
    """The service, run by `sensr.lifecycle.service_main`: `start` waits for Kafka and the
    camera table and opens the port, `serve` runs pyftpdlib's loop until `stop` is set,
    `drain` answers the uploads under way, `close` closes everything."""

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        if settings.core.log_level.upper() != "DEBUG":
            logging.getLogger("pyftpdlib").setLevel(logging.WARNING)  # one line per transfer: ours say more
        self.settings = settings
        self.table = CameraTable(settings.core, settings.kafka)
        self.ops = OpsServer(settings.ftp.ftp_host, settings.ftp.ftp_ops_port, self.readiness)
        self.serving = False
        self.publisher: FramePublisher | None = None
        self._stop = stop
        self._ioloop = IOLoop()
        self._server: FTPServer | None = None
        self._services: SessionServices | None = None

    def readiness(self) -> dict[str, bool]:
        """Ready means an upload would be stored now: `kafka_delivers` is the publisher's
        view of the producer (see `sensr.publisher.FramePublisher.blockers`)."""
        publisher = self.publisher
        return {"camera_table": self.table.loaded.is_set(), "ftp": self.serving,
                "kafka_delivers": publisher is not None and not publisher.blockers()}

    def start(self) -> None:
        settings, ftp = self.settings, self.settings.ftp
        self.ops.start()
        self.table.start()
        retry = self.settings.core.dependency_wait_max_seconds
        wait_for("kafka topics", lambda: ensure_topics(settings.core, settings.kafka), self._stop,
                 max_delay=retry, errors=(KafkaError, OSError))
        wait_for("camera table", self.table.wait_loaded, self._stop, max_delay=retry, errors=(TimeoutError,))
        producer = make_producer(settings.core, settings.kafka, client_id="sensr-ingest-ftp")
        self.publisher = publisher = FramePublisher(
            producer, self._ioloop, RecentUploads(ftp.ftp_reupload_window),
            timeout=settings.kafka.kafka_request_timeout_ms / 1000,
            delivery_timeout=producer.config["delivery_timeout_ms"] / 1000)
        # metadata now, so that send() need not wait for it later
        wait_for("sensr.frames metadata", lambda: producer.partitions_for(FRAMES), self._stop,
                 max_delay=retry, errors=(KafkaError,))
        self._services = services = SessionServices(
            publisher=publisher, trees=CameraTrees(),
            sessions=CameraSessions(ftp.ftp_max_connections_per_camera),
            frame_rate=FrameRate(ftp.ftp_max_frames_per_second),
            failed_logins=FailedLogins(ftp.ftp_auth_failure_limit, ftp.ftp_auth_failure_delay),
            admission=Admission(ftp.ftp_max_connections_per_network, ftp.ftp_max_connections_before_login),
            max_frame_bytes=settings.core.max_frame_bytes, max_frame_pixels=settings.core.max_frame_pixels)
        self._server = server = FTPServer((ftp.ftp_host, ftp.ftp_port), build_handler(settings, self.table, services),
                                          ioloop=self._ioloop, backlog=256)
        server.max_cons = ftp.ftp_max_connections
        server.max_cons_per_ip = ftp.ftp_max_connections_per_ip
        self._ioloop.call_every(LOGIN_CHECK_SECONDS, end_revoked_sessions, self._ioloop)
        self.serving = True
        log.info("serving", address=f"{ftp.ftp_host}:{ftp.ftp_port}", passive_ports=ftp.ftp_passive_ports,
                 masquerade=ftp.ftp_masquerade_address, tls=bool(ftp.ftp_tls_cert),
                 tls_required=ftp.ftp_tls_required, ops_port=self.ops.port)

    def serve(self) -> None:
        """pyftpdlib's loop, one poll at a time (sleeping until the next timer is due, at most
        POLL_SECONDS), until a stop is requested."""
        wait = POLL_SECONDS
        while not self._stop.is_set():
            soonest = self._ioloop.loop(wait, blocking=False)
            wait = POLL_SECONDS if soonest is None else min(soonest, POLL_SECONDS)

    def drain(self) -> None:
        """Close the port, refuse new uploads and answer those under way, for at most the
        Kafka timeout and a second."""
        assert self._server is not None and self._services is not None  # started
        self.serving = False
        self._services.draining.set()
        self._server.close()
        deadline = time.monotonic() + self.settings.kafka.kafka_request_timeout_ms / 1000 + 1
        while (busy := uploads_under_way(self._ioloop, self._services)) and time.monotonic() < deadline:
            self._ioloop.loop(0.05, blocking=False)
        log.info("drained", unanswered=busy)

    def close(self) -> None:
        self.serving = False
        if self._server is not None:
            self._server.close_all()
        if self.publisher is not None:
            self.publisher.close()
        self.table.stop()
        self.ops.stop()


def uploads_under_way(ioloop: IOLoop, services: SessionServices) -> int:
    """Uploads whose data connection is awaited or still arriving, plus frames awaiting
    Kafka's answer."""
    channels = list(ioloop.socket_map.values())
    awaiting_data = sum(1 for channel in channels
                        if isinstance(channel, CameraHandler) and waiting_upload(channel) is not None)
    arriving = sum(1 for channel in channels if isinstance(channel, UploadDTP) and channel.receive)
    return awaiting_data + arriving + services.publisher.in_flight


def main() -> None:
    """Entry point of `python -m ingest_ftp` and `sensr-ingest-ftp`."""
    service_main("ingest_ftp", FtpIngest)
