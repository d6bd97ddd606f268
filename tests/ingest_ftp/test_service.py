"""ingest_ftp end to end: the real service (`python -m ingest_ftp`) against the harness's
Kafka, driven by real clients (ftplib, curl, lftp) and by scripted sessions that send
exactly what camera firmware sends."""

from __future__ import annotations

import ftplib
import io
import itertools
import signal
import socket
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sensr.cameras import CameraLogin
from tests.support.harness import eventually
from tests.support.ingest_ftp import QUIET, FtpService, exactly, frame, passive, raw, store
from tests.support.jpegs import make_jpeg
from tests.support.kafka_tap import FrameTap, update_camera

UPLOAD_BYTES = "sensr_ingest_ftp_upload_bytes_total"
DATA_CONNECTIONS = "sensr_ingest_ftp_data_connections"


@pytest.fixture(scope="module")
def ftp_service(start_service) -> FtpService:
    """The default service, generous limits so tests do not trip over each other."""
    return start_service(cameras=30, disabled=1, ftp_auth_failure_limit=1000, ftp_max_connections_per_ip=200,
                         ftp_max_connections_per_network=0, ftp_max_frames_per_second=1000)


# -- helpers ------------------------------------------------------------------------------

def _reader(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)



def _camera_time(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1_000_000)


# -- uploads with real clients ------------------------------------------------------------

def test_ftplib_passive_50_frames_on_one_connection(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    frames = [frame(seed) for seed in range(50)]
    names = [f"SensrCam20261124101530{i:02d}.jpg" for i in range(50)]
    with ftp_service.login(cam) as ftp:
        for name, jpeg in zip(names, frames, strict=True):
            assert ftp.storbinary(f"STOR {name}", _reader(jpeg)).startswith("226")
    events = tap.collect(cam.username, 50, timeout=30)
    assert [e.jpeg for e in events] == frames
    assert [e.filename for e in events] == names
    assert all(a.timestamp_us < b.timestamp_us for a, b in zip(events, events[1:], strict=False))
    assert events[7].camera_time_us == _camera_time("2026-11-24T10:15:30.070000")
    assert {e.source for e in events} == {"ftp"} and events[0].client == "127.0.0.1"
    assert tap.quiet(cam.username, QUIET) == []


def test_curl_upload(ftp_service: FtpService, tap: FrameTap, tmp_path: Path) -> None:
    cam = ftp_service.camera()
    path = tmp_path / "frame.jpg"
    path.write_bytes(frame(100))
    result = subprocess.run(["curl", "-sS", "--max-time", "30", "-T", str(path),
                             f"ftp://{cam.username}:{cam.password}@127.0.0.1:{ftp_service.port}/"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    [event] = tap.collect(cam.username, 1)
    assert event.jpeg == path.read_bytes() and event.filename == "frame.jpg"


def test_lftp_put(ftp_service: FtpService, tap: FrameTap, tmp_path: Path) -> None:
    cam = ftp_service.camera()
    path = tmp_path / "2026-11-24_10-15-30.jpg"
    path.write_bytes(frame(101))
    script = ("set ftp:passive-mode on; set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 20; "
              f"put {path}; bye")
    result = subprocess.run(["lftp", "-u", f"{cam.username},{cam.password}", "-p", str(ftp_service.port),
                             "-e", script, "127.0.0.1"], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stdout + result.stderr
    [event] = tap.collect(cam.username, 1)
    assert event.jpeg == path.read_bytes() and event.filename == path.name
    assert event.camera_time_us == _camera_time("2026-11-24T10:15:30")


# -- what cameras do ----------------------------------------------------------------------

def test_panasonic_overwrite_mode(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    frames = [frame(200 + i) for i in range(3)]
    with ftp_service.login(cam) as ftp:
        for jpeg in frames:
            assert store(ftp, "imagenew.jpg", jpeg).startswith("226")
            assert raw(ftp, "RNFR imagenew.jpg").startswith("350")
            assert raw(ftp, "RNTO imageold.jpg").startswith("250")
    events = exactly(tap, cam, 3)
    assert [e.jpeg for e in events] == frames and {e.filename for e in events} == {"imagenew.jpg"}


def test_rename_survives_a_reconnect(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    with ftp_service.login(cam) as ftp:
        assert store(ftp, "imagenew.jpg", frame(210)).startswith("226")
    with ftp_service.login(cam) as ftp:  # the next connection renames what the last one stored
        assert raw(ftp, "RNFR imagenew.jpg").startswith("350")
        assert raw(ftp, "RNTO imageold.jpg").startswith("250")
        assert raw(ftp, "SIZE imageold.jpg") == f"213 {len(frame(210))}"
    exactly(tap, cam, 1)


def test_dated_folder(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    jpeg = frame(300)
    with ftp_service.login(cam) as ftp:
        assert raw(ftp, "MKD /2026-11-24/").startswith("257")
        assert raw(ftp, "CWD /2026-11-24/").startswith("250")
        assert '"/2026-11-24"' in raw(ftp, "PWD")
        assert store(ftp, "10-15-30.jpg", jpeg).startswith("226")
        assert raw(ftp, "CWD /2026-11-25/cam1").startswith("250")  # never made: accepted all the same
        assert raw(ftp, "CDUP").startswith("250")
        assert ftp.nlst("/2026-11-24") == ["10-15-30.jpg"]
    [event] = tap.collect(cam.username, 1)
    assert event.jpeg == jpeg and event.filename == "2026-11-24/10-15-30.jpg"
    assert event.camera_time_us == _camera_time("2026-11-24T10:15:30")


def test_the_other_commands_cameras_send(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    jpeg = frame(400)
    with ftp_service.login(cam) as ftp:
        features = raw(ftp, "FEAT")
        assert features.startswith("211") and "UTF8" in features and "EPSV" in features
        assert raw(ftp, "OPTS UTF8 ON").startswith("200")
        assert raw(ftp, "NOOP").startswith("200")
        assert raw(ftp, "SYST").startswith("215")
        assert raw(ftp, "TYPE A").startswith("200")
        assert store(ftp, "ascii.jpg", jpeg).startswith("226")  # TYPE A: stored byte for byte all the same
        assert raw(ftp, "SIZE ascii.jpg") == f"213 {len(jpeg)}"
        assert raw(ftp, "TYPE I").startswith("200")
        assert raw(ftp, "MDTM ascii.jpg").startswith("213 2")
        listing: list[str] = []
        ftp.retrlines("LIST", listing.append)
        assert len(listing) == 1 and listing[0].endswith(" ascii.jpg") and f" {len(jpeg)} " in listing[0]
        assert ftp.nlst() == ["ascii.jpg"]
        ftp.voidcmd("EPSV")  # accepted; ftplib then uses PASV for its own transfers
        ftp.set_pasv(True)
        assert ftp.storbinary("APPE appended.jpg", _reader(frame(401))).startswith("226")
        assert raw(ftp, "DELE ascii.jpg").startswith("250")
        assert raw(ftp, "DELE never-stored.jpg").startswith("250")
        assert raw(ftp, "SIZE ascii.jpg").startswith("550")
        assert raw(ftp, "RETR appended.jpg").startswith("550")  # a camera login only uploads
    events = tap.collect(cam.username, 2)
    assert [e.jpeg for e in events] == [jpeg, frame(401)]


def test_epsv_upload(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    with ftp_service.login(cam) as ftp:
        reply = raw(ftp, "EPSV")
        assert reply.startswith("229"), reply
        port = int(reply.split("|||")[1].split("|")[0])
        assert raw(ftp, "STOR epsv.jpg").startswith("150")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as data_sock:
            data_sock.sendall(frame(402))
        assert ftp.getmultiline().startswith("226")
    assert tap.collect(cam.username, 1)[0].jpeg == frame(402)


# -- refusals -----------------------------------------------------------------------------

def test_wrong_password_unknown_camera_and_anonymous(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    with ftp_service.connect() as ftp:
        with pytest.raises(ftplib.error_perm, match="530"):
            ftp.login(cam.username, "wrong-password")
    with ftp_service.connect() as ftp:
        with pytest.raises(ftplib.error_perm, match="530"):
            ftp.login("no-such-camera", cam.password)
    with ftp_service.connect() as ftp:
        with pytest.raises(ftplib.error_perm, match="530 Anonymous"):
            ftp.login()
    with ftp_service.connect() as ftp:
        assert raw(ftp, "PASV").startswith("530")  # nothing before a login
    assert tap.quiet(cam.username, QUIET) == []


def test_disabled_camera(ftp_service: FtpService) -> None:
    disabled = ftp_service.disabled[0]
    with ftp_service.connect() as ftp:
        with pytest.raises(ftplib.error_perm, match="530 This camera's upload login is disabled"):
            ftp.login(disabled.username, disabled.password)


def test_a_disabled_camera_is_stopped_mid_session(ftp_service: FtpService, kafka_bootstrap: str) -> None:
    cam = ftp_service.camera()
    with ftp_service.login(cam) as ftp:
        assert store(ftp, "before.jpg", frame(510)).startswith("226")
        update_camera(kafka_bootstrap, CameraLogin.create(cam.username, camera_id=f"id-{cam.username}",
                                                          owner_id="owner-test", password=cam.password,
                                                          enabled=False))
        reply = ftp.getmultiline()  # the session is ended within moments, without a command
        assert reply.startswith("421") and "disabled" in reply, reply


def test_non_jpeg_and_empty_files_are_refused_with_the_reason(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    with ftp_service.login(cam) as ftp:
        reply = store(ftp, "notes.jpg", b"this is a text file, not a picture\n" * 10)
        assert reply.startswith("550") and "not a JPEG" in reply, reply
        reply = store(ftp, "empty.jpg", b"")
        assert reply.startswith("550") and "empty" in reply, reply
        two = frame(500) + frame(501)
        reply = store(ftp, "two.jpg", two)
        assert reply.startswith("550") and "2 JPEG images" in reply, reply
        assert store(ftp, "fine.jpg", frame(502)).startswith("226")  # the session goes on
    assert [e.filename for e in exactly(tap, cam, 1)] == ["fine.jpg"]


def test_truncated_upload_publishes_nothing(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    jpeg = frame(600)
    with ftp_service.login(cam) as ftp:
        reply = store(ftp, "short.jpg", jpeg[: len(jpeg) // 2])
        assert reply.startswith("550") and "truncated" in reply, reply
    assert tap.quiet(cam.username, QUIET) == []


def test_aborted_and_dropped_uploads_publish_nothing(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    jpeg = frame(700)
    with ftp_service.login(cam) as ftp:
        # ABOR in the middle of the transfer
        host, port = passive(ftp)
        assert raw(ftp, "STOR aborted.jpg").startswith("150")
        data_sock = socket.create_connection((host, port), timeout=10)
        received = ftp_service.metric(UPLOAD_BYTES)
        data_sock.sendall(jpeg[:500])
        eventually(lambda: ftp_service.metric(UPLOAD_BYTES) >= received + 500, what="the first bytes read")
        reply = raw(ftp, "ABOR")  # 426 for the transfer under way, then 226 for the ABOR
        assert reply.startswith("426"), reply
        assert ftp.getmultiline().startswith("226")
        data_sock.close()

        # the data connection reset after the whole file (SO_LINGER 0 sends RST, not FIN)
        host, port = passive(ftp)
        assert raw(ftp, "STOR reset.jpg").startswith("150")
        data_sock = socket.create_connection((host, port), timeout=10)
        data_sock.sendall(jpeg)
        data_sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        data_sock.close()
        reply = ftp.getmultiline()
        assert reply[:3] in ("426", "425"), reply  # 425: reset before the server had accepted it

    # the control connection dropped in the middle of the transfer
    ftp = ftp_service.login(cam)
    host, port = passive(ftp)
    assert raw(ftp, "STOR dropped.jpg").startswith("150")
    eventually(lambda: ftp_service.metric(DATA_CONNECTIONS) == 0, what="the earlier data connections closed")
    data_sock = socket.create_connection((host, port), timeout=10)
    received = ftp_service.metric(UPLOAD_BYTES)
    data_sock.sendall(jpeg[:500])
    eventually(lambda: ftp_service.metric(UPLOAD_BYTES) >= received + 500, what="the first bytes read")
    ftp.sock.close()
    eventually(lambda: ftp_service.metric(DATA_CONNECTIONS) == 0, what="the data connection closed with the session")
    data_sock.close()
    assert tap.quiet(cam.username, QUIET + 1) == []
    assert 'sensr_ingest_ftp_rejects_total{reason="connection_lost"}' in ftp_service.metrics()


def test_port_bounce_is_refused(ftp_service: FtpService) -> None:
    """(A stranger on a passive port: tests/ingest_ftp/test_hardening.py.)"""
    cam = ftp_service.camera()
    with ftp_service.login(cam) as ftp:
        assert raw(ftp, "PORT 127,0,0,2,200,10").startswith("501")  # another host: no bounce
        assert raw(ftp, "EPRT |1|127.0.0.2|51210|").startswith("501")
        assert raw(ftp, "PORT 127,0,0,1,0,80").startswith("501")  # a privileged port


# -- firmware quirks, one scripted session each ---------------------------------------------

def test_quirk_dahua_allo_gets_200(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    jpeg = frame(900)
    with ftp_service.login(cam) as ftp:
        assert raw(ftp, "TYPE I").startswith("200")
        reply = raw(ftp, f"ALLO {len(jpeg)}")
        assert reply.startswith("200 "), reply
        assert store(ftp, "dahua.jpg", jpeg).startswith("226")
    assert [e.jpeg for e in exactly(tap, cam, 1)] == [jpeg]


def test_quirk_reolink_mode_s_and_stru_f(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    jpeg = frame(901)
    with ftp_service.login(cam) as ftp:
        assert raw(ftp, "MODE S").startswith("200")
        assert raw(ftp, "STRU F").startswith("200")
        assert store(ftp, "Cam_00_20261124101530.jpg", jpeg).startswith("226")
    assert [e.jpeg for e in exactly(tap, cam, 1)] == [jpeg]


def test_quirk_esp32_waits_for_150(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    with ftp_service.login(cam) as ftp:
        # connects the data channel first: pyftpdlib would say 125 here
        host, port = passive(ftp)
        eventually(lambda: ftp_service.metric(DATA_CONNECTIONS) == 0, what="the earlier data connections closed")
        data_sock = socket.create_connection((host, port), timeout=10)
        eventually(lambda: ftp_service.metric(DATA_CONNECTIONS) == 1, what="the data connection accepted")
        reply = raw(ftp, "STOR esp32-a.jpg")
        assert reply.startswith("150 "), reply
        data_sock.sendall(frame(902))
        data_sock.close()
        assert ftp.getmultiline().startswith("226")
        # STOR first, data connection after the 150
        assert store(ftp, "esp32-b.jpg", frame(903)).startswith("226")
    events = exactly(tap, cam, 2)
    assert [e.jpeg for e in events] == [frame(902), frame(903)]


@pytest.mark.parametrize("command", ["PORT", "EPRT"])
def test_quirk_busybox_active_mode(ftp_service: FtpService, tap: FrameTap, command: str) -> None:
    cam = ftp_service.camera()
    jpeg = frame(904)
    with ftp_service.login(cam) as ftp, socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        port = listener.getsockname()[1]
        line = (f"PORT 127,0,0,1,{port // 256},{port % 256}" if command == "PORT"
                else f"EPRT |1|127.0.0.1|{port}|")
        reply = raw(ftp, line)
        assert reply.startswith("200"), reply
        data_sock, _ = listener.accept()
        assert raw(ftp, "STOR busybox.jpg").startswith("150")
        data_sock.sendall(jpeg)
        data_sock.close()
        assert ftp.getmultiline().startswith("226")
    assert [e.jpeg for e in exactly(tap, cam, 1)] == [jpeg]


@pytest.mark.parametrize("suffix", [".part", ".tmp"])
def test_quirk_temporary_name_then_rename(ftp_service: FtpService, tap: FrameTap, suffix: str) -> None:
    cam = ftp_service.camera()
    jpeg = frame(905)
    with ftp_service.login(cam) as ftp:
        assert store(ftp, f"20261124101530.jpg{suffix}", jpeg).startswith("226")
        assert raw(ftp, f"RNFR 20261124101530.jpg{suffix}").startswith("350")
        assert raw(ftp, "RNTO 20261124101530.jpg").startswith("250")
        assert raw(ftp, "SIZE 20261124101530.jpg") == f"213 {len(jpeg)}"
    events = exactly(tap, cam, 1)
    assert [(e.jpeg, e.filename) for e in events] == [(jpeg, "20261124101530.jpg")]


def test_quirk_reupload_after_reconnect(ftp_service: FtpService, tap: FrameTap) -> None:
    cam = ftp_service.camera()
    first, second = frame(906), frame(907)
    with ftp_service.login(cam) as ftp:
        assert store(ftp, "snap_001.jpg", first).startswith("226")
        assert store(ftp, "snap_002.jpg", second).startswith("226")
    with ftp_service.login(cam) as ftp:  # rebooted: the same files again
        assert store(ftp, "snap_001.jpg", first).startswith("226")
        assert store(ftp, "snap_002.jpg", second).startswith("226")
        assert store(ftp, "snap_001.jpg", frame(908)).startswith("226")  # same name, new picture
    events = exactly(tap, cam, 3)
    assert [(e.filename, e.jpeg) for e in events] == [("snap_001.jpg", first), ("snap_002.jpg", second),
                                                      ("snap_001.jpg", frame(908))]


# -- limits, timeouts, NAT diagnosis -------------------------------------------------------

def test_limits_and_timeouts(start_service, tap: FrameTap) -> None:
    service = start_service(cameras=3, ftp_max_connections_per_ip=3, ftp_max_connections_per_camera=1,
                            ftp_max_frames_per_second=2, ftp_auth_failure_limit=1, ftp_auth_failure_delay=1.5,
                            ftp_data_timeout=1.5, ftp_idle_timeout=3, ftp_masquerade_address="203.0.113.7",
                            max_frame_bytes=20_000)
    cam, other = service.camera(), service.camera()
    with service.login(cam) as ftp:
        # one session per camera
        with service.connect() as second, pytest.raises(ftplib.error_temp, match="421 Too many sessions"):
            second.login(cam.username, cam.password)
        # three connections per address: the fourth is turned away at once
        extra = [service.connect(), service.connect()]
        with pytest.raises(ftplib.error_temp, match="421"):
            service.connect()
        for conn in extra:
            conn.close()

        # two frames per second, in bursts of two
        assert store(ftp, "burst0.jpg", frame(1000)).startswith("226")
        assert store(ftp, "burst1.jpg", frame(1001)).startswith("226")
        passive(ftp)
        reply = raw(ftp, "STOR burst2.jpg")
        assert reply.startswith("450") and "at most 2 frames per second" in reply, reply

        # over the frame size limit: cut off with a reason (by a camera within its frame rate)
        big = make_jpeg(400, 300, seed=1)
        assert len(big) > 20_000
        with service.login(service.camera()) as third:
            reply = store(third, "big.jpg", big)
        assert reply.startswith("552") and "20000 bytes" in reply, reply

        # PASV announces the masquerade address; a connection that never comes is logged with it
        reply = raw(ftp, "PASV")
        numbers = reply[reply.index("(") + 1: reply.index(")")].split(",")
        assert numbers[:4] == ["203", "0", "113", "7"], reply  # read, never connected to
        announced = f"203.0.113.7:{int(numbers[4]) * 256 + int(numbers[5])}"
        assert ftp.getmultiline().startswith("421 Passive data channel timed out")
        assert announced in service.log() and "passive_connection_missing" in service.log()
    assert [e.filename for e in exactly(tap, cam, 2)] == ["burst0.jpg", "burst1.jpg"]

    # failed logins: the first is answered at once, the next waits
    for expected_wait in (False, True):
        with service.connect() as ftp:
            started = time.monotonic()
            with pytest.raises(ftplib.error_perm, match="530"):
                ftp.login(other.username, "wrong")
            assert (time.monotonic() - started >= 1.4) is expected_wait

    # an idle control connection is closed
    with service.login(other) as ftp:
        assert ftp.getmultiline().startswith("421 Control connection timed out")


# -- FTPS -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_ftps_required(start_service, certificate: tuple[Path, Path], tap: FrameTap) -> None:
    cert, key = certificate
    service = start_service(cameras=1, ftp_tls_cert=cert, ftp_tls_key=key, ftp_tls_required=True)
    cam = service.camera()
    with service.connect() as ftp:
        with pytest.raises(ftplib.error_perm, match="550 SSL/TLS required"):
            ftp.login(cam.username, cam.password)
    jpeg = frame(1100)
    with service.connect(tls=True) as ftps:
        assert isinstance(ftps, ftplib.FTP_TLS)
        ftps.login(cam.username, cam.password)  # AUTH TLS first
        ftps.prot_p()
        assert ftps.storbinary("STOR secure.jpg", _reader(jpeg)).startswith("226")
    assert [e.jpeg for e in tap.collect(cam.username, 1)] == [jpeg]


# -- Kafka away ------------------------------------------------------------------------------

def test_broker_stopped_and_restarted(start_service, private_kafka) -> None:
    service = start_service(cameras=1, bootstrap=private_kafka.bootstrap, kafka_request_timeout_ms=3000)
    cam = service.camera()
    answered: list[bytes] = []

    def upload(ftp: ftplib.FTP, seed: int) -> str:
        reply = store(ftp, f"outage_{seed}.jpg", frame(seed))
        if reply.startswith("226"):
            answered.append(frame(seed))
        return reply

    with service.login(cam) as ftp:
        assert upload(ftp, 1200).startswith("226")
        private_kafka.stop()
        started = time.monotonic()
        reply = upload(ftp, 1201)
        assert reply.startswith("451") and "not stored" in reply, reply
        assert time.monotonic() - started < 20  # bounded by the request timeout, not hanging
        private_kafka.start()
        seeds = itertools.count(1202)
        eventually(lambda: upload(ftp, next(seeds)).startswith("226"), 60, 0.5,
                   what="uploads recovered after the broker came back")
    service.process.stop()
    tap = FrameTap(private_kafka.bootstrap)
    try:
        tap.consumer.seek_to_beginning()
        stored = [e.jpeg for e in tap.collect(cam.username, len(answered) + 5, timeout=10)]
    finally:
        tap.close()
    assert all(jpeg in stored for jpeg in answered)  # nothing answered 226 is lost


# -- shutdown ----------------------------------------------------------------------------------

def sigterm(service: FtpService) -> subprocess.Popen[bytes]:
    popen = service.process.popen
    assert popen is not None
    popen.send_signal(signal.SIGTERM)
    return popen


def refuses_connections(port: int) -> bool:
    """Whether nothing listens on `port` any more (the service is draining)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_shutdown_answers_the_upload_under_way_and_refuses_new_ones(start_service, tap: FrameTap) -> None:
    """SIGTERM in the middle of an upload: the port closes, that upload still ends with 226
    and its frame in Kafka; a STOR that comes after the signal is refused with 421 (the
    camera sends it again once Sensr is back); then the process exits 0."""
    service = start_service(cameras=2)
    uploading, idle = service.camera(), service.camera()
    jpeg = frame(1300)
    with service.login(uploading) as ftp, service.login(idle) as other:
        host, port = passive(ftp)
        assert raw(ftp, "STOR under_way.jpg").startswith("150")
        with socket.create_connection((host, port), timeout=10) as data_sock:
            data_sock.sendall(jpeg[:len(jpeg) // 2])
            popen = sigterm(service)
            eventually(lambda: refuses_connections(service.port), 30, 0.1, what="the listener closed on SIGTERM")
            refused = raw(other, "STOR too_late.jpg")
            assert refused.startswith("421") and "upload it again" in refused, refused
            data_sock.sendall(jpeg[len(jpeg) // 2:])
        reply = ftp.getmultiline()
        assert reply.startswith("226"), reply
    assert popen.wait(30) == 0, service.log()[-3000:]
    assert [event.jpeg for event in exactly(tap, uploading, 1)] == [jpeg]
    assert not tap.quiet(idle.username, seconds=1)


def test_shutdown_answers_an_upload_awaiting_kafka(start_service, private_kafka) -> None:
    """SIGTERM while a frame awaits Kafka's acknowledgement (the broker is away): the camera
    gets its answer (451, send it again) before the session closes, not a silent hang-up."""
    service = start_service(cameras=1, bootstrap=private_kafka.bootstrap, kafka_request_timeout_ms=4000)
    cam = service.camera()
    with service.login(cam) as ftp:
        assert store(ftp, "before.jpg", frame(1310)).startswith("226")
        private_kafka.stop()
        host, port = passive(ftp)
        assert raw(ftp, "STOR awaiting.jpg").startswith("150")
        with socket.create_connection((host, port), timeout=10) as data_sock:
            data_sock.sendall(frame(1311))
        eventually(lambda: service.metric("sensr_frames_in_flight", edge="ftp") == 1,
                   what="the frame handed to the producer, which cannot deliver it")
        popen = sigterm(service)
        reply = ftp.getmultiline()
        assert reply.startswith("451") and "upload it again" in reply, reply
    assert popen.wait(30) == 0, service.log()[-3000:]
