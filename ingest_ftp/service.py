"""Wiring and running ingest_ftp: settings -> camera table -> producer -> FTP server.

Start-up order matters: the FTP port opens only once the camera table has caught up with
`sensr.cameras` (before that every login would be refused), and `/readyz` says so.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from pyftpdlib.handlers.ftp.dispatchers import ActiveDTP
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from ingest_ftp.authorizer import CameraAuthorizer
from ingest_ftp.filesystem import CameraTrees
from ingest_ftp.handler import AnnouncedPassiveDTP, CameraHandler, SessionServices
from ingest_ftp.limits import CameraSessions, FailedLogins, FrameRate
from ingest_ftp.publisher import FramePublisher
from ingest_ftp.recent import RecentUploads
from sensr.broker import FRAMES, ensure_topics, make_producer
from sensr.cameras import CameraTable
from sensr.logs import configure_logging, get_logger
from sensr.ops import OpsServer
from sensr.settings import Settings, load_settings

log = get_logger(__name__)


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
        "passive_ports": parse_port_range(ftp.ftp_passive_ports),
        "masquerade_address": ftp.ftp_masquerade_address,
        **tls,
    })


class FtpIngest:
    """The service: `run()` blocks until SIGTERM/SIGINT, then stops everything it started."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.table = CameraTable(settings.core, settings.kafka)
        self.ops = OpsServer(settings.ftp.ftp_host, settings.ftp.ftp_ops_port, self.readiness)
        self.serving = False

    def readiness(self) -> dict[str, bool]:
        return {"camera_table": self.table.loaded.is_set(), "ftp": self.serving}

    def run(self) -> None:
        settings, ftp = self.settings, self.settings.ftp
        self.ops.start()
        self.table.start()
        publisher: FramePublisher | None = None
        try:
            self._ensure_topics()
            while not self.table.loaded.wait(1.0):
                log.info("waiting_for_camera_table", error=self.table.error)
            producer = make_producer(settings.core, settings.kafka, client_id="sensr-ingest-ftp")
            producer.partitions_for(FRAMES)  # metadata now, so send() need not wait for it later
            ioloop = IOLoop()
            publisher = FramePublisher(producer, ioloop, RecentUploads(ftp.ftp_reupload_window),
                                       settings.kafka.kafka_request_timeout_ms / 1000)
            services = SessionServices(
                publisher=publisher, trees=CameraTrees(),
                sessions=CameraSessions(ftp.ftp_max_connections_per_camera),
                frame_rate=FrameRate(ftp.ftp_max_frames_per_second),
                failed_logins=FailedLogins(ftp.ftp_auth_failure_limit, ftp.ftp_auth_failure_delay),
                max_frame_bytes=settings.core.max_frame_bytes)
            server = FTPServer((ftp.ftp_host, ftp.ftp_port), build_handler(settings, self.table, services),
                               ioloop=ioloop, backlog=256)
            server.max_cons = ftp.ftp_max_connections
            server.max_cons_per_ip = ftp.ftp_max_connections_per_ip
            self.serving = True
            log.info("serving", address=f"{ftp.ftp_host}:{ftp.ftp_port}", passive_ports=ftp.ftp_passive_ports,
                     masquerade=ftp.ftp_masquerade_address, tls=bool(ftp.ftp_tls_cert),
                     tls_required=ftp.ftp_tls_required, ops_port=self.ops.port)
            try:
                server.serve_forever(handle_exit=False)
            finally:
                self.serving = False
                server.close_all()
        except (KeyboardInterrupt, SystemExit):
            log.info("stopping")
        finally:
            if publisher is not None:
                publisher.close()
            self.table.stop()
            self.ops.stop()

    def _ensure_topics(self) -> None:
        """Create Sensr's topics if missing, waiting for the broker as long as it takes."""
        while True:
            try:
                ensure_topics(self.settings.core, self.settings.kafka)
                return
            except Exception as error:  # the broker is not reachable yet: keep waiting, say so
                log.warning("kafka_unreachable", error=str(error) or type(error).__name__)
                time.sleep(2.0)


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of `python -m ingest_ftp` and `sensr-ingest-ftp`."""
    settings = load_settings()
    configure_logging(settings.core, "ingest_ftp")
    if settings.core.log_level.upper() != "DEBUG":
        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)  # one line per transfer: ours say more
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    FtpIngest(settings).run()
