"""The FTP session: pyftpdlib's handler with a few hooks for cameras.

* `226` waits for Kafka. pyftpdlib's data channel replies `226` as soon as the upload's
  file object is closed; `UploadDTP` withholds that reply, `on_file_received` checks the
  JPEG as the catalog worker would (`sensr.frame_check.vet_upload`: a frame it could not
  store is refused here, `552` when it has too many pixels, else `550`) and hands it to
  the publisher, and the reply (`226`, or `451` when Kafka cannot take it) is sent when
  the publisher's outcome comes back to the loop. Commands the client sends meanwhile
  are held and answered after it, in order.
* Firmware quirks: `ALLO` is answered `200` (Dahua drops the connection on `202`); `150`
  is sent where pyftpdlib would say `125` (ESP32-CAM waits for `150`); uploads are binary
  whatever `TYPE` says (a JPEG is never text); `SIZE` also works in ASCII mode.
* A data connection reset by the camera is an aborted upload, not a complete one.
* Names with control characters (`ingest_ftp.names.name_refusal`) are refused, `553`
  for the commands that name a file or folder, `501` for the others.
* Limits: sessions per camera, frames per second per camera, slowed failed logins; a
  passive data connection that never arrives is logged with the address it was told.
  A connection must log in within `login_timeout`, and is admitted by the rules of
  `ingest_ftp.admission` (connections per network, a share for those not logged in).
* A connection to a passive port from another address than the session's is closed
  and the port keeps waiting for the camera (pyftpdlib would fail the camera's `STOR`
  with `425`).
* Shutdown: once `services.draining` is set, a new `STOR` is answered `421` (cameras
  reconnect and send it again), while uploads under way still get their `226`.
* A login stays checked: `end_revoked_sessions` checks every session against the live
  camera table every moment (and each `STOR` and each received file are checked too),
  so a changed password, a disabled or a deleted camera ends its sessions at once, an
  upload under way is dropped, and nothing sent after it is stored.
"""

from __future__ import annotations

import errno
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.handlers.ftp.dispatchers import PassiveDTP
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.log import logger as ftp_logger

from ingest_ftp import metrics
from ingest_ftp.admission import Admission
from ingest_ftp.filesystem import CameraTrees, Upload, VirtualFS
from ingest_ftp.limits import CameraSessions, FailedLogins, FrameRate
from ingest_ftp.names import camera_time_us, final_name, name_refusal
from ingest_ftp.publisher import FramePublisher, Outcome
from ingest_ftp.pyftpdlib_compat import (
    forget_waiting_transfers,
    is_closed,
    is_closing,
    is_quitting,
    set_transfer_reply,
    waiting_upload,
    waits_for_data_connection,
)
from ingest_ftp.recent import UploadKey
from sensr.frame_check import vet_upload
from sensr.frames import FrameEvent
from sensr.logs import get_logger
from sensr.scanner import JpegError

log = get_logger(__name__)

MAX_HELD_COMMANDS = 64
"""Commands a client may send while its upload awaits Kafka before it is disconnected."""

NAMING_COMMANDS = frozenset(command for command, spec in FTPHandler.proto_cmds.items() if spec["perm"])
"""Commands whose argument is a file or folder name (STOR, APPE, RNFR, RNTO, MKD, CWD, DELE, ...)."""

CONNECTION_LOST = frozenset({errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT,
                             errno.ENOTCONN, errno.ESHUTDOWN})


@dataclass(frozen=True)
class SessionServices:
    """What every session shares (all used on the IOLoop thread)."""

    publisher: FramePublisher
    trees: CameraTrees
    sessions: CameraSessions
    frame_rate: FrameRate
    failed_logins: FailedLogins
    admission: Admission[CameraHandler]
    max_frame_bytes: int
    max_frame_pixels: int
    draining: threading.Event = field(default_factory=threading.Event)
    """Set while the service shuts down: uploads under way finish, new ones are refused."""


class UploadDTP(DTPHandler):
    """The data channel: binary uploads, resets count as aborts, and no `226` of its own."""

    def __init__(self, sock: Any, cmd_channel: Any) -> None:
        self._counted = False
        super().__init__(sock, cmd_channel)
        if not is_closed(self):  # pyftpdlib closes at once a connection reset as it was accepted
            metrics.DATA_CONNECTIONS.inc()
            self._counted = True

    def enable_receiving(self, type: str, cmd: str) -> None:
        super().enable_receiving("i", cmd)  # TYPE A would turn CRLF into LF inside the JPEG

    def is_connection_lost(self, error: BaseException | None) -> bool:
        """Whether `error` (the exception being handled when the connection closed) is a reset."""
        return isinstance(error, OSError) and error.errno in CONNECTION_LOST

    def handle_close(self) -> None:
        # pyftpdlib's recv() calls handle_close() from inside its `except` for a reset just
        # as for a clean end of data, so the exception in flight tells the two apart.
        if self.receive and isinstance(self.file_obj, Upload) and self.is_connection_lost(sys.exc_info()[1]):
            self.file_obj.failure = "connection_lost"
            set_transfer_reply(self, "426 Data connection lost; the upload was discarded.", ftp_logger.info)
            self.close()
            return
        super().handle_close()

    def handle_read_event(self) -> None:
        super().handle_read_event()
        if isinstance(self.file_obj, Upload) and self.file_obj.failure == "too_large":
            self.close()

    def close(self) -> None:
        upload = self.file_obj
        if not is_closed(self) and self.receive and isinstance(upload, Upload):
            if upload.failure == "too_large":
                self.transfer_finished = False  # so pyftpdlib reports it as incomplete
                set_transfer_reply(self, f"552 Upload rejected: the file is larger than the frame size limit of "
                                         f"{upload.limit} bytes.", ftp_logger.info)
            elif self.transfer_finished and upload.failure is None:
                set_transfer_reply(self, None)  # the control channel answers once Kafka has the frame
        super().close()
        if self._counted:
            self._counted = False
            metrics.DATA_CONNECTIONS.dec()


class AnnouncedPassiveDTP(PassiveDTP):
    """A PASV/EPSV listener that, when nobody connects, logs the address it announced."""

    def __init__(self, cmd_channel: Any, extmode: bool = False) -> None:
        super().__init__(cmd_channel, extmode)
        host = cmd_channel.masquerade_address or cmd_channel.socket.getsockname()[0]
        self.announced = f"{host}:{self.socket.getsockname()[1]}"

    def handle_accepted(self, sock: Any, addr: Any) -> None:
        channel = self.cmd_channel
        if channel.connected and addr[0] != channel.remote_ip and not channel.permit_foreign_addresses:
            # pyftpdlib would answer 425 on the camera's control connection, failing its
            # STOR because of a stranger: close the stranger's, keep waiting for the camera.
            metrics.FOREIGN_DATA_CONNECTIONS.inc()
            log.info("foreign_data_connection_closed", camera=channel.username, client=channel.remote_ip,
                     foreign=f"{addr[0]}:{addr[1]}")
            sock.close()
            return
        super().handle_accepted(sock, addr)
        channel = self.cmd_channel
        if is_closed(self) and channel.connected and channel.data_channel is None:
            # Accepted, but already reset (gone before pyftpdlib could use it): pyftpdlib drops
            # it without a word, which would leave a waiting STOR unanswered forever.
            channel.data_connection_lost()

    def handle_timeout(self) -> None:
        metrics.PASSIVE_TIMEOUTS.inc()
        log.warning("passive_connection_missing", camera=self.cmd_channel.username,
                    client=self.cmd_channel.remote_ip, announced=self.announced,
                    hint="the camera could not reach the announced address and port: check "
                         "SENSR_FTP_MASQUERADE_ADDRESS and that the passive ports are forwarded")
        super().handle_timeout()


class CameraHandler(FTPHandler):
    """One camera's control connection. `build_handler()` makes the configured subclass."""

    services: SessionServices
    abstracted_fs = VirtualFS
    dtp_handler = UploadDTP
    passive_dtp = AnnouncedPassiveDTP
    use_sendfile = False
    banner = "Sensr FTP upload host ready."
    login_timeout: float = 30.0
    """Seconds a connection has to log in, however busy it keeps itself (0: no limit)."""

    def __init__(self, conn: Any, server: Any, ioloop: Any = None) -> None:
        self._awaiting_kafka = False
        self._held: deque[tuple[str, str, str]] = deque()
        self._admitted: str | None = None
        self._open_counted = False
        self._frames = 0
        self._login_deadline: Any = None
        self._revoked = False
        super().__init__(conn, server, ioloop)

    # -- replies ---------------------------------------------------------------------

    def respond(self, resp: str, logfun: Any = ftp_logger.debug) -> None:
        if resp.startswith("125 "):
            resp = "150 File status okay; transfer starting."  # the same meaning; some firmware knows only 150
        super().respond(resp, logfun)

    def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
        if self._awaiting_kafka or self._held:
            if len(self._held) >= MAX_HELD_COMMANDS:
                self.respond("421 Too many commands while an upload awaits storage; closing.")
                self.close_when_done()
                return
            self._held.append((line, cmd, arg))
            return
        self._dispatch(line, cmd, arg)

    def _run_held(self) -> None:
        while self._held and not self._awaiting_kafka and not is_closed(self):
            self._dispatch(*self._held.popleft())

    def _dispatch(self, line: str, cmd: str, arg: str) -> None:
        """Run a command, unless its argument has characters no name may have."""
        refusal = name_refusal(arg)
        if refusal is not None:
            log.info("command_refused", camera=self.username or None, client=self.remote_ip, command=cmd,
                     reason=refusal)
            if cmd in ("STOR", "APPE", "STOU"):
                metrics.REJECTS.labels("bad_name").inc()
            naming = cmd in NAMING_COMMANDS
            self.respond(f"553 File name not allowed: {refusal}." if naming else f"501 Syntax error: {refusal}.")
            return
        super().pre_process_command(line, cmd, arg)

    # -- sessions and logins ---------------------------------------------------------

    def handle(self) -> None:
        # pyftpdlib calls this (to send the banner) for a connection within its own limits.
        admission = self.services.admission
        if admission.network_full(self.remote_ip, self.server.ip_map):
            self._turn_away("network", "421 Too many connections from your network; try again later.")
            return
        self._await_login()
        if not is_closed(self):
            super().handle()

    def _await_login(self) -> None:
        """Count this connection among those waiting to log in, and start its login deadline."""
        displaced = self.services.admission.arrive(self, self.remote_ip)
        if displaced is not None:
            displaced._turn_away("displaced", "421 Too many connections waiting to log in; try again later.")
        if self.login_timeout and not is_closed(self):
            self._login_deadline = self.ioloop.call_later(self.login_timeout, self._login_timed_out,
                                                          _errback=self.handle_error)

    def _login_timed_out(self) -> None:
        if not self.authenticated and not is_closed(self):
            self._turn_away("login_timeout", f"421 No login within {self.login_timeout:g} seconds; closing.")

    def _turn_away(self, reason: str, reply: str) -> None:
        """Close a connection that has not logged in, freeing its place now."""
        metrics.TURNED_AWAY.labels(reason).inc()
        log.debug("connection_turned_away", client=self.remote_ip, reason=reason)
        self.respond(reply)
        self.close()

    def on_connect(self) -> None:
        self._open_counted = True
        metrics.SESSIONS.inc()

    def on_disconnect(self) -> None:
        if self._open_counted:
            metrics.SESSIONS.dec()
        self._stop_waiting_for_login()
        self._release_camera()
        if self.authenticated:
            log.info("session_closed", camera=self.username, client=self.remote_ip, frames=self._frames)

    def on_logout(self, username: str) -> None:
        self._release_camera()
        if not (is_closing(self) or is_quitting(self)):  # REIN, or USER again: not QUIT
            self._await_login()

    def _stop_waiting_for_login(self) -> None:
        self.services.admission.leave(self)
        if self._login_deadline is not None and not self._login_deadline.cancelled:
            self._login_deadline.cancel()

    def _release_camera(self) -> None:
        if self._admitted is not None:
            self.services.sessions.release(self._admitted)
            self._admitted = None

    def handle_auth_success(self, home: str, password: str, msg_login: str) -> None:
        self._stop_waiting_for_login()
        sessions = self.services.sessions
        if not sessions.admit(self.username):
            metrics.LOGINS.labels("camera_sessions").inc()
            log.info("login_refused", camera=self.username, client=self.remote_ip, reason="too many sessions")
            self.respond(f"421 Too many sessions for camera {self.username} (at most {sessions.limit}); "
                         "try again later.")
            self.close_when_done()
            return
        self._admitted = self.username
        metrics.LOGINS.labels("ok").inc()
        log.info("login", camera=self.username, client=self.remote_ip)
        super().handle_auth_success(home, password, msg_login)

    def handle_auth_failed(self, msg: str, password: str) -> None:
        self.auth_failed_timeout = self.services.failed_logins.record(self.remote_ip)
        log.info("login_failed", camera=self.username, client=self.remote_ip, reason=msg,
                 delay=self.auth_failed_timeout)
        super().handle_auth_failed(msg, password)

    # -- commands --------------------------------------------------------------------

    def ftp_ALLO(self, line: str) -> None:
        self.respond("200 ALLO accepted; no storage allocation needed.")

    def ftp_SIZE(self, path: str) -> None:
        if not self.fs.isfile(path):
            self.respond(f"550 {self.fs.fs2ftp(path)} is not a file.")
            return
        self.respond(f"213 {self.fs.getsize(path)}")

    def ftp_STOR(self, file: str, mode: str = "w") -> str | None:
        if self.services.draining.is_set():
            self.respond("421 Sensr FTP is restarting; this frame was not stored, upload it again in a moment.")
            self.close_when_done()
            return None
        if self.end_if_revoked():
            return None
        rate = self.services.frame_rate
        if not rate.allow(self.username):
            self._count_reject("rate_limited", file)
            self.respond(f"450 Frame rate limit exceeded: camera {self.username} may upload at most "
                         f"{rate.rate:g} frames per second; this frame was not stored.")
            return None
        return super().ftp_STOR(file, mode)

    # -- uploads ---------------------------------------------------------------------

    def on_file_received(self, file: str) -> None:
        upload = self.fs.take_upload(file)
        if upload is None:
            return
        if self._revoked or self.end_if_revoked():  # the table may know before the next check
            self._count_reject("revoked", file)
            return
        name = final_name(file.lstrip("/"))
        try:
            jpeg = vet_upload(upload.data, self.services.max_frame_bytes, self.services.max_frame_pixels)
        except JpegError as bad:
            self._count_reject(bad.reason, file)
            code = 552 if bad.reason == "too_many_pixels" else 550  # 552: exceeded storage allocation
            self.respond(f"{code} Upload rejected: {bad}.")
            return
        self.fs.stored(file, len(upload.data))
        event = FrameEvent.new(self.username, jpeg, "ftp", self.remote_ip, filename=name,
                               camera_time_us=camera_time_us(name))
        self._awaiting_kafka = True
        self.services.publisher.publish(event, UploadKey.of(self.username, name, jpeg),
                                        partial(self._published, event))

    def end_if_revoked(self) -> bool:
        """End the session at once if the camera's login no longer holds (its password was
        changed, the camera disabled or deleted): an upload under way is dropped, and
        nothing more is stored. Returns whether it ended."""
        how = self.authorizer.revocation(self.username, self.password)
        if how is None:
            return False
        self._revoked = True
        metrics.REVOKED_SESSIONS.inc()
        log.info("login_revoked", camera=self.username, client=self.remote_ip, how=how)
        channel = self.data_channel
        if channel is not None and channel.receive and isinstance(channel.file_obj, Upload):
            channel.file_obj.failure = "revoked"
        self.respond(f"421 This camera's login was {how}; the session ends and nothing more is stored.")
        self.close()  # closes the data channel too: an upload under way is incomplete, never published
        return True

    def data_connection_lost(self) -> None:
        """The data connection died as it was accepted: answer the command waiting for it."""
        if not waits_for_data_connection(self):
            return  # no command waits for it
        waiting = waiting_upload(self)
        if waiting is not None:
            upload, _cmd = waiting
            self._count_reject("connection_lost", upload.name)
            self.fs.take_upload(upload.name)
        forget_waiting_transfers(self)
        self.respond("425 Data connection lost before the transfer; nothing stored.")

    def on_incomplete_file_received(self, file: str) -> None:
        upload = self.fs.take_upload(file)
        self._count_reject(upload.failure if upload and upload.failure else "aborted", file)

    def _published(self, event: FrameEvent, outcome: Outcome) -> None:
        self._awaiting_kafka = False
        if is_closed(self):
            log.info("reply_lost", camera=self.username, filename=event.filename, stored=outcome.ok,
                     note="the camera left before the reply; a re-upload of the same file is answered 226 "
                          "without a second copy")
            return
        if outcome.ok:
            self._frames += 1
            log.debug("frame_stored", camera=self.username, filename=event.filename, frame_id=event.frame_id,
                      bytes=len(event.jpeg), reupload=outcome.reupload)
            self.respond("226 Transfer complete (already stored)." if outcome.reupload else "226 Transfer complete.")
        else:
            self._count_reject(outcome.reason or "kafka_error", event.filename or "")
            self.respond(f"451 Frame not stored: {outcome.detail}; please upload it again.")
        self._run_held()

    def _count_reject(self, reason: str, file: str) -> None:
        metrics.REJECTS.labels(reason).inc()
        log.info("upload_rejected", camera=self.username, client=self.remote_ip, file=file, reason=reason)


def end_revoked_sessions(ioloop: IOLoop) -> None:
    """End every logged-in session whose login was revoked (see `CameraHandler.end_if_revoked`).

    Run on the loop every moment: the camera table follows `sensr.cameras` on its own
    thread, and a lookup and a password check per session cost microseconds. Never
    raises (pyftpdlib would stop calling it)."""
    for channel in list(ioloop.socket_map.values()):
        if isinstance(channel, CameraHandler) and channel.authenticated and not is_closed(channel):
            try:
                channel.end_if_revoked()
            except Exception:  # one broken session must not stop the checks of the others
                log.exception("login_check_failed", camera=channel.username)
                channel.handle_error()
