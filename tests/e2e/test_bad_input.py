"""Bad input sweep through the whole stack: hypothesis draws random bytes and mutated
real JPEGs (and random FTP commands) and sends them to the photo, MJPEG and FTP paths of
the running services. Whatever arrives, a service never crashes (its process lives and
/healthz answers), every answer is a proper status (HTTP 200/400/413; FTP reply codes),
and no connection hangs (every client socket has a timeout). Bounded: at most 40
examples per path, no deadline per example.
"""

from __future__ import annotations

import base64
import ftplib
import io
import json
import re
import socket
from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from launcher.service_stack import ServiceStack
from tests.support.stack import wait_until_edges_know
from tests.support.jpegs import make_jpeg, mpf_files, mpjpeg_part_header, sample_frames
from workload.api_client import ApiClient, CameraLogin

MAX_FRAME_BYTES = 64 * 1024
SOCKET_TIMEOUT = 20.0
FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def stack_overrides() -> dict[str, str]:
    return {"SENSR_MAX_FRAME_BYTES": str(MAX_FRAME_BYTES), "SENSR_HTTP_IDLE_TIMEOUT": "5"}


@pytest.fixture(scope="module")
def camera(stack: ServiceStack) -> CameraLogin:
    login = ApiClient(stack.api_url).create_camera("fuzz target")
    wait_until_edges_know(login)
    return login


@pytest.fixture(autouse=True)
def services_survive(stack: ServiceStack) -> Iterator[None]:
    """After each sweep: every service's process lives and answers /healthz."""
    yield
    for service in stack.services:
        assert stack.running(service), f"{service} died:\n{stack.log(service)[-3000:]}"
        assert stack.healthy(service), f"{service} does not answer /healthz"


# -- what to send ---------------------------------------------------------------------------

JPEGS = (*sample_frames(), *mpf_files())
MARKERS = (b"\xff\xd8", b"\xff\xd9", b"\xff\xda", b"\xff\xc0", b"\xff\xe1", b"\xff\xdd", b"\xff\x00",
           b"\xff\xff", b"\xff\xd0", b"\xff")


@st.composite
def mutated_jpeg(draw: st.DrawFn) -> bytes:
    """A real JPEG with a few random edits: flipped bytes, inserted markers or noise,
    cut or repeated ranges, truncation."""
    data = bytearray(draw(st.sampled_from(JPEGS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "marker", "noise", "cut", "repeat", "truncate", "length"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "marker":
            data[at:at] = draw(st.sampled_from(MARKERS))
        elif kind == "noise":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "cut":
            del data[at:at + draw(st.integers(1, 512))]
        elif kind == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 512))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "length" and len(data) > at + 3:  # a segment length that lies
            data[at + 2:at + 4] = draw(st.binary(min_size=2, max_size=2))
    return bytes(data)


def oversized_jpeg() -> bytes:
    """A valid JPEG larger than the frame limit (a big comment)."""
    return make_jpeg(64, 48, comment=b"x" * 65000, seed=3)


random_bytes = st.one_of(st.binary(max_size=2048),
                         st.binary(max_size=2048).map(lambda b: b"\xff\xd8" + b),
                         st.binary(max_size=512).map(lambda b: b"\xff\xd8\xff\xe0" + b + b"\xff\xd9"))
bodies = st.one_of(random_bytes, mutated_jpeg(), st.sampled_from(JPEGS), st.just(oversized_jpeg()))


# -- HTTP on a bare socket (so nothing is hidden by a client library) --------------------------

def basic(camera: CameraLogin) -> str:
    return "Basic " + base64.b64encode(f"{camera.username}:{camera.password}".encode()).decode()


def chunked(body: bytes, sizes: list[int]) -> bytes:
    out, pos, n = [], 0, 0
    while pos < len(body):
        piece = body[pos:pos + sizes[n % len(sizes)]]
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        pos, n = pos + len(piece), n + 1
    return b"".join(out) + b"0\r\n\r\n"


def http_exchange(port: int, head: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one request, read one response; the socket times out rather than hang."""
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(head.encode() + body)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed without an answer (got {received[:200]!r})"
            received += chunk
        header_block, _, rest = received.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        match = re.match(r"HTTP/1\.[01] (\d{3}) ", lines[0])
        assert match, f"not an HTTP status line: {lines[0]!r}"
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed in the middle of the answer"
            rest += chunk
        return int(match.group(1)), headers, rest[:length]


def request_head(method: str, path: str, camera: CameraLogin, length: int | None, content_type: str) -> str:
    framing = f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {basic(camera)}\r\n"
            f"Content-Type: {content_type}\r\n{framing}Connection: close\r\n\r\n")


chunk_sizes = st.lists(st.integers(1, 4096), min_size=1, max_size=8)


@FUZZ
@given(body=bodies, method=st.sampled_from(["PUT", "POST"]), sizes=st.none() | chunk_sizes)
def test_photo_path(stack: ServiceStack, camera: CameraLogin, body: bytes, method: str, sizes: list[int] | None) -> None:
    note(f"{len(body)} bytes, {'valid' if body in JPEGS else 'other'}, starting {body[:24]!r}, chunks {sizes}")
    head = request_head(method, f"/photo/{camera.username}", camera, None if sizes else len(body), "image/jpeg")
    status, headers, answer = http_exchange(stack.http_port, head, chunked(body, sizes) if sizes else body)
    assert status in (200, 400, 413), (status, answer)
    assert headers.get("content-type", "").startswith("application/json")
    if status != 200:
        assert json.loads(answer)["message"]
    if body in JPEGS:
        assert status == 200, answer
    if len(body) > MAX_FRAME_BYTES + 64 * 1024:
        assert status == 413


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """An MJPEG body made of valid frames, mutated frames and garbage, raw or as
    multipart parts (with honest or lying part headers). Also returns how many frames
    it must yield, when that is known (valid frames only)."""
    pieces = draw(st.lists(st.one_of(st.sampled_from(JPEGS).map(lambda j: ("valid", j)),
                                     mutated_jpeg().map(lambda j: ("mutated", j)),
                                     random_bytes.map(lambda j: ("garbage", j))), min_size=1, max_size=6))
    multipart = draw(st.booleans())
    out = []
    if multipart:
        out.append(b"--ffmpeg\r\n")
    for _kind, piece in pieces:
        if multipart:
            length = len(piece) + draw(st.sampled_from([0, 0, 0, -7, 13]))
            out += [mpjpeg_part_header(max(length, 0)), piece, b"\r\n--ffmpeg\r\n"]
        else:
            out.append(piece)
    all_valid = all(kind == "valid" for kind, _ in pieces)
    return b"".join(out), (len(pieces) if all_valid else None)


@FUZZ
@given(stream=streams(), sizes=chunk_sizes)
def test_mjpeg_path(stack: ServiceStack, camera: CameraLogin, stream: tuple[bytes, int | None], sizes: list[int]) -> None:
    body, expected_frames = stream
    note(f"{len(body)} bytes, {expected_frames} frames expected, starting {body[:24]!r}, chunks {sizes}")
    head = request_head("POST", f"/upload/{camera.username}", camera, None,
                        "multipart/x-mixed-replace;boundary=ffmpeg")
    status, _headers, answer = http_exchange(stack.http_port, head, chunked(body, sizes))
    assert status in (200, 400, 413), (status, answer)
    if status == 200:
        summary = json.loads(answer)
        assert summary["frames"] >= 0 and summary["skipped_bytes"] >= 0
        if expected_frames is not None:
            assert summary["frames"] == expected_frames, summary


# -- FTP --------------------------------------------------------------------------------------

REPLY = re.compile(r"^[1-5]\d\d[ -]")


def ftp_session(camera: CameraLogin) -> ftplib.FTP:
    ftp = ftplib.FTP()
    ftp.connect(camera.host, camera.ftp_port, timeout=SOCKET_TIMEOUT)
    ftp.login(camera.username, camera.password)
    return ftp


@FUZZ
@given(body=bodies, name=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40),
       append=st.booleans())
def test_ftp_stor(stack: ServiceStack, camera: CameraLogin, body: bytes, name: str, append: bool) -> None:
    ftp = ftp_session(camera)
    try:
        command = "APPE" if append else "STOR"
        try:
            reply = ftp.storbinary(f"{command} {name.strip() or 'x'}.jpg", io.BytesIO(body))
        except ftplib.Error as error:
            reply = str(error)
        assert REPLY.match(reply), reply
        code = int(reply[:3])
        assert code in (226, 450, 550, 552, 553), reply
        if body in JPEGS and "/" not in name and name.strip() not in ("", ".", ".."):
            assert code == 226, reply
        if len(body) > MAX_FRAME_BYTES:
            assert code != 226, reply
        assert ftp.voidcmd("NOOP").startswith("200")  # the session carries on
    finally:
        ftp.close()


VERBS = ["MKD", "CWD", "CDUP", "PWD", "RNFR", "RNTO", "DELE", "SIZE", "RMD", "TYPE", "MODE", "STRU", "NOOP",
         "STAT", "SYST", "FEAT", "OPTS", "MDTM", "SITE", "HELP", "ALLO", "REST", "ABOR", "XMKD", "XPWD", "MLST",
         "EPSV", "PASV", "PORT", "EPRT", "PBSZ", "PROT", "USER", "PASS", "BOGUS", "STOR", "RETR"]
arguments = st.one_of(st.just(""), st.sampled_from(["/", "..", "../../etc/passwd", "imagenew.jpg", "imageold.jpg",
                                                    "a/b/c", "I", "A", "S", "F", "127,0,0,1,0,1", "|1|127.0.0.1|1|"]),
                      st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=300))


@FUZZ
@given(commands=st.lists(st.tuples(st.sampled_from(VERBS), arguments), min_size=1, max_size=12))
def test_ftp_commands(stack: ServiceStack, camera: CameraLogin, commands: list[tuple[str, str]]) -> None:
    """What netcam firmware and worse might say: every command gets a well-formed reply,
    and a closed session is one the server ended with a reply (421, 530...)."""
    ftp = ftp_session(camera)
    try:
        for verb, argument in commands:
            if verb in ("STOR", "RETR"):  # would open a data connection nobody serves
                continue
            line = f"{verb} {argument}".strip()
            try:
                reply = ftp.sendcmd(line)
            except ftplib.Error as error:
                reply = str(error)
            except (EOFError, ConnectionError):
                return  # the server hung up (after its reply): fine, as long as it lives
            assert REPLY.match(reply), (line, reply)
            if reply.startswith("421"):
                return
    finally:
        ftp.close()


def test_everything_still_works_after_the_sweep(stack: ServiceStack, camera: CameraLogin) -> None:
    """A good photo, stream and file still go all the way through (the catalog worker
    survived what slipped through the edges, too)."""
    user = ApiClient(stack.api_url)
    fresh = user.create_camera("after the sweep")
    wait_until_edges_know(fresh)
    jpeg = make_jpeg(64, 48, seed=777)
    url = f"http://{fresh.host}:{fresh.http_port}/photo/{fresh.username}"
    assert requests.put(url, data=jpeg, auth=fresh.auth, timeout=SOCKET_TIMEOUT).status_code == 200
    ftp = ftp_session(fresh)
    try:
        assert ftp.storbinary("STOR after.jpg", io.BytesIO(make_jpeg(64, 48, seed=778))).startswith("226")
    finally:
        ftp.close()
    frames = user.wait_for_frames(fresh.id, 2, timeout=60)
    assert sorted(len(user.image(frame)) for frame in frames) == sorted([len(jpeg), len(make_jpeg(64, 48, seed=778))])
    for service in stack.services:
        assert stack.ready(service), service
