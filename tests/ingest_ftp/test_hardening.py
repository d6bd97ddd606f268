"""ingest_ftp against hostile cameras and visitors (issue 17): the real service with the
harness's Kafka, driven by ftplib and by raw sockets where ftplib would not send the bytes.

* frames the catalog worker would refuse are refused before the 226 (finding 2);
* names with control characters are refused at the edge (finding 4);
* a stranger connecting to a camera's passive port does not break its upload (finding 8);
* silent connections cannot shut cameras out (finding 5);
* a changed password, a disabled or deleted camera ends its open sessions (finding 3).
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import socket
import uuid
from collections.abc import Callable

import pytest

from ingest_ftp.admission import Admission, network_of
from ingest_ftp.names import name_refusal
from sensr.cameras import CameraLogin
from tests.support.kafka_tap import FrameTap, delete_camera, update_camera
from tests.support.harness import eventually
from tests.support.jpegs import hostile_frames, make_jpeg
from tests.support.ingest_ftp import QUIET, Camera, FtpService, exactly, frame, passive, raw, store


@pytest.fixture(scope="module")
def service(start_service) -> FtpService:
    return start_service(cameras=30, ftp_auth_failure_limit=1000, ftp_max_connections_per_ip=200,
                         ftp_max_frames_per_second=1000)


def _control(service: FtpService, source: str = "127.0.0.1") -> tuple[socket.socket, io.BufferedReader]:
    """A raw control connection from `source`, past the banner."""
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=20, source_address=(source, 0))
    replies = sock.makefile("rb")
    assert replies.readline().startswith(b"220")
    return sock, replies


def _command(sock: socket.socket, replies: io.BufferedReader, line: bytes) -> bytes:
    sock.sendall(line + b"\r\n")
    return replies.readline()


# -- finding 2: what the catalog worker would refuse, the edge refuses first --------------------

@pytest.mark.parametrize("kind", sorted(hostile_frames()))
def test_frames_the_worker_cannot_store_are_refused_before_226(service: FtpService, tap: FrameTap,
                                                               kind: str) -> None:
    cam = service.camera()
    with service.login(cam) as ftp:
        with pytest.raises(ftplib.error_perm) as refused:
            ftp.storbinary(f"STOR {kind}.jpg", io.BytesIO(hostile_frames()[kind]))
        reply = str(refused.value)
        expected = "552" if kind in ("progressive_bomb", "huge_declared") else "550"
        assert reply.startswith(expected), reply
        assert ftp.storbinary("STOR fine.jpg", io.BytesIO(frame(1700))).startswith("226")  # the session goes on
    assert [e.filename for e in exactly(tap, cam, 1)] == ["fine.jpg"]


# -- finding 4: control characters in names -----------------------------------------------------

@pytest.mark.parametrize("name", [b"nul\x00byte.jpg", b"bell\x07.jpg", b"tab\t.jpg", b"cr\rlf.jpg", b"lf\nonly.jpg",
                                  b"del\x7f.jpg", "c1\u0085.jpg".encode(), "csi\u009b.jpg".encode()],
                         ids=["NUL", "BEL", "TAB", "CR", "LF", "DEL", "NEL", "CSI"])
def test_control_characters_in_names_are_refused(service: FtpService, tap: FrameTap, name: bytes) -> None:
    cam = service.camera()
    sock, replies = _control(service)
    with sock:
        assert _command(sock, replies, f"USER {cam.username}".encode()).startswith(b"331")
        assert _command(sock, replies, f"PASS {cam.password}".encode()).startswith(b"230")
        for verb in (b"MKD", b"CWD", b"DELE", b"RNFR", b"RNTO", b"SIZE", b"XMKD"):
            reply = _command(sock, replies, verb + b" " + name)
            assert reply.startswith(b"553 "), (verb, reply)
        for verb in (b"STOR", b"APPE"):  # refused before a data connection is asked for
            assert _command(sock, replies, b"PASV").startswith(b"227")
            reply = _command(sock, replies, verb + b" " + name)
            assert reply.startswith(b"553 "), (verb, reply)
        assert _command(sock, replies, b"ABOR").startswith(b"225")  # nothing was under way
        assert _command(sock, replies, b"NOOP").startswith(b"200")  # the session goes on
    assert tap.quiet(cam.username, QUIET) == []


def test_names_without_control_characters_still_work(service: FtpService, tap: FrameTap) -> None:
    cam = service.camera()
    name = "Einfahrt 2026-11-24 10-15-30 \u00e9t\u00e9.jpg"  # spaces and accents are fine
    with service.login(cam) as ftp:
        assert store(ftp, name, frame(1701)).startswith("226")
    assert [e.filename for e in exactly(tap, cam, 1)] == [name]


# -- finding 8: probing the passive ports -------------------------------------------------------

def test_a_stranger_on_the_passive_port_does_not_break_the_upload(service: FtpService, tap: FrameTap) -> None:
    cam = service.camera()
    with service.login(cam) as ftp:
        host, port = passive(ftp)
        with socket.socket() as prober:
            prober.bind(("127.0.0.2", 0))
            prober.settimeout(20)
            prober.connect((host, port))
            assert prober.recv(1) == b""  # closed by the server
        assert raw(ftp, "STOR mine.jpg").startswith("150")  # no 425 came before: this is the next reply
        with socket.create_connection((host, port), timeout=20) as data_sock:
            data_sock.sendall(frame(1702))
        assert ftp.getmultiline().startswith("226")
    assert [e.filename for e in exactly(tap, cam, 1)] == ["mine.jpg"]
    assert "sensr_ingest_ftp_foreign_data_connections_total 1.0" in service.metrics()


# -- finding 5: silent connections cannot shut cameras out ---------------------------------------

def _closed_with(sock: socket.socket, replies: io.BufferedReader) -> bytes:
    """The last line the server sent before closing the connection."""
    last = b""
    with sock:
        while line := replies.readline():
            last = line
    return last


def test_silent_connections_cannot_shut_cameras_out(start_service, tap: FrameTap) -> None:  # noqa: F811
    service = start_service(cameras=1, ftp_max_connections=80, ftp_max_connections_per_ip=3,
                            ftp_max_connections_per_network=6, ftp_max_connections_before_login=12,
                            ftp_login_timeout=5)
    cam = service.camera()
    silent = [_control(service, f"127.0.5.{host}") for host in (1, 2) for _ in range(3)]
    # the network 127.0.5.0/24 has its six: a seventh, from a third address, is turned away
    refused = socket.create_connection(("127.0.0.1", service.port), timeout=20, source_address=("127.0.5.3", 0))
    assert _closed_with(refused, refused.makefile("rb")).startswith(b"421 Too many connections from your network")

    # more silent connections from four more networks than may wait to log in at once
    silent += [_control(service, f"127.0.{net}.{host}") for net in (6, 7, 8, 9) for host in (1, 2) for _ in range(3)]
    with service.login(cam) as ftp:  # a camera still gets in, and uploads
        assert ftp.storbinary("STOR through.jpg", io.BytesIO(frame(1720))).startswith("226")
        # every silent connection is closed: made room for newer ones, or no login in time
        endings = [_closed_with(sock, replies) for sock, replies in silent]
        assert all(end.startswith(b"421 ") for end in endings), endings
        assert any(end.startswith(b"421 No login within 5 seconds") for end in endings), endings
        assert sum(end.startswith(b"421 Too many connections waiting to log in") for end in endings) >= len(silent) - 12
        assert ftp.voidcmd("NOOP").startswith("200")  # a logged-in camera has no login deadline
        assert ftp.sendcmd("REIN").startswith("230")  # logged out: the deadline applies again
        assert ftp.getmultiline().startswith("421 No login within 5 seconds")
    assert [e.filename for e in exactly(tap, cam, 1)] == ["through.jpg"]


# -- finding 3: revoking a login ends its sessions ----------------------------------------------

def _change_password(bootstrap: str, cam: Camera) -> None:
    update_camera(bootstrap, CameraLogin.create(cam.username, camera_id=f"id-{cam.username}", owner_id="owner-test",
                                                password=f"pw-{uuid.uuid4().hex}"))


def _disable(bootstrap: str, cam: Camera) -> None:
    update_camera(bootstrap, CameraLogin.create(cam.username, camera_id=f"id-{cam.username}", owner_id="owner-test",
                                                password=cam.password, enabled=False))


def _delete(bootstrap: str, cam: Camera) -> None:
    delete_camera(bootstrap, cam.username)


@pytest.mark.parametrize(("revoke", "said"), [(_change_password, "changed"), (_disable, "disabled"),
                                              (_delete, "deleted")], ids=["password", "disabled", "deleted"])
def test_revoking_a_login_ends_the_session_and_drops_the_upload_under_way(
        service: FtpService, tap: FrameTap, kafka_bootstrap: str, revoke: Callable[[str, Camera], None],
        said: str) -> None:
    cam = service.camera()
    jpeg = make_jpeg(640, 480, seed=1730)
    with service.login(cam) as ftp:
        assert store(ftp, "before.jpg", frame(1731)).startswith("226")
        host, port = passive(ftp)
        assert raw(ftp, "STOR during.jpg").startswith("150")
        with socket.create_connection((host, port), timeout=20) as data_sock:
            data_sock.sendall(jpeg[: len(jpeg) // 2])
            revoke(kafka_bootstrap, cam)
            reply = ftp.getmultiline()  # within moments, without waiting for a command
            assert reply.startswith("421") and said in reply, reply
            with contextlib.suppress(OSError):  # the server has closed the data connection too
                data_sock.sendall(jpeg[len(jpeg) // 2:])
    assert [e.filename for e in exactly(tap, cam, 1)] == ["before.jpg"]
    assert eventually(lambda: 'sensr_ingest_ftp_rejects_total{reason="revoked"}' in service.metrics(), timeout=10)


# -- the rules on their own ----------------------------------------------------------------------

def test_name_refusal() -> None:
    for name in ("a\x00b.jpg", "\x1b[2J.jpg", "x\x7f", "\u0085", "\u009f.jpg", "\n"):
        assert name_refusal(name) is not None, repr(name)
    for name in ("", "snap 2026-11-24.jpg", "a/b/c.jpg", "\u00a0\u00e9\u2028\ufffd.jpg", "../x"):
        assert name_refusal(name) is None, repr(name)
    assert name_refusal("nul\x00byte.jpg") == "the name contains the control character U+0000"


def test_networks() -> None:
    assert network_of("192.0.2.7") == "192.0.2.0/24"
    assert network_of("::ffff:192.0.2.7") == "192.0.2.0/24"
    assert network_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert network_of("fe80::1%eth0") == "fe80::/64"


def test_admission_caps_networks_and_makes_room_from_the_busiest() -> None:
    admission: Admission[str] = Admission(max_per_network=2, max_waiting=3)
    assert not admission.network_full("10.0.0.1", ["10.0.0.1", "10.0.0.2", "10.0.1.1"])
    assert admission.network_full("10.0.0.3", ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    assert not Admission(0, 3).network_full("10.0.0.3", ["10.0.0.1"] * 100)

    assert admission.arrive("a1", "10.0.0.1") is None
    assert admission.arrive("b1", "10.0.1.1") is None
    assert admission.arrive("a2", "10.0.0.2") is None
    assert admission.arrive("c1", "10.0.2.1") == "a1"  # the oldest of the network with the most waiting
    assert admission.waiting == 3
    admission.leave("b1")  # logged in
    admission.leave("b1")  # and closed later: no-op
    assert admission.arrive("d1", "10.0.3.1") is None
    assert admission.arrive("e1", "10.0.4.1") == "a2"  # now every network has one: the oldest goes
    assert Admission(2, 0).arrive("x", "10.0.0.1") == "x"
