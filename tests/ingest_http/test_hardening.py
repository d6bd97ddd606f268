"""ingest_http against an untrusted camera (issue 17), through the running service and the
real Kafka: frames the catalog worker could not store are refused at the edge (photo and
every frame of a stream), a revoked login ends the uploads already open, refused bodies
are not read to their declared length, and control characters in the camera name are
refused. The well-behaved clients of the seed keep working."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ingest_http.auth import Credentials, HeldLogin
from ingest_http.logins import LoginWatch
from sensr.cameras import CameraLogin, CameraTable
from sensr.settings import CoreSettings, KafkaSettings
from tests.support.kafka_tap import FrameTap, delete_camera, register_camera, update_camera
from tests.support.harness import eventually
from tests.support.jpegs import hostile_frames, make_jpeg, mpjpeg_stream
from tests.support.ingest_http import (IngestHttp, basic, chunk, curl_status, push_stream, read_response, request_head,
                                       run, start_ingest_http)

IDLE_TIMEOUT = 60
"""Long, so that a connection closed within a test's bounds was not closed for silence."""
CLOSED_WITHIN = 15.0
"""Bound on waiting for the server to close a connection (seconds; it should take one or two)."""

REFUSAL = {"progressive_bomb": (413, "too_many_pixels"), "huge_declared": (413, "too_many_pixels"),
           "zero_height": (400, "unsupported"), "twelve_bit": (400, "unsupported"), "lossless": (400, "unsupported")}


@pytest.fixture(scope="module")
def service(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestHttp]:
    running = start_ingest_http(kafka_bootstrap, tmp_path_factory.mktemp("ingest_http_hardening"),
                                max_frame_bytes=4 * 1024 * 1024, auth_failure_limit=1000,
                                http_idle_timeout=IDLE_TIMEOUT)
    yield running
    running.process.stop()


@pytest.fixture
def camera(kafka_bootstrap: str, service: IngestHttp, unique_name: str) -> CameraLogin:
    """A camera of this test's own (password 'first'), known to the running service."""
    return known_camera(kafka_bootstrap, service, unique_name)


def known_camera(kafka_bootstrap: str, service: IngestHttp, name: str) -> CameraLogin:
    login = register_camera(kafka_bootstrap, name, "first")
    eventually(lambda: login_status(service, name, "first") == 400, timeout=30, what=f"{name} known")
    return login


def login_status(service: IngestHttp, camera: str, password: str) -> int:
    """The status of a photo upload whose body is no JPEG: 400 when the login holds, its
    refusal otherwise. Nothing is ever stored by it."""
    connection = service.connection()
    try:
        connection.request("POST", f"/photo/{camera}", body=b"not a photo",
                           headers={"Authorization": basic(camera, password)})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (reset counts as closed);
    raises socket.timeout when it does not close within CLOSED_WITHIN seconds."""
    sock.settimeout(CLOSED_WITHIN)
    received = b""
    try:
        while more := sock.recv(65536):
            received += more
    except ConnectionResetError:
        pass
    return received


def answer_of(response: bytes) -> tuple[str, dict]:
    head, _, body = response.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), json.loads(body)


# -- finding 2: what the worker would refuse, the edge refuses first -------------------------------


@pytest.mark.parametrize("kind", sorted(REFUSAL))
def test_photo_the_worker_cannot_store_is_refused(service: IngestHttp, camera: CameraLogin, tap: FrameTap,
                                                 kind: str) -> None:
    status, reason = REFUSAL[kind]
    for method in ("POST", "PUT"):
        connection = service.connection()
        try:
            connection.request(method, f"/photo/{camera.username}", body=hostile_frames()[kind],
                               headers={"Authorization": basic(camera.username, "first")})
            response = connection.getresponse()
            assert (response.status, json.loads(response.read())["error"]) == (status, reason), method
        finally:
            connection.close()
    assert tap.quiet(camera.username, 1.0) == []


def test_stream_frames_the_worker_cannot_store_are_dropped_and_counted(service: IngestHttp, camera: CameraLogin,
                                                                      tap: FrameTap) -> None:
    hostile = hostile_frames()
    good = [make_jpeg(64, 48, seed=n) for n in range(len(hostile) + 1)]
    body = [good[0]]
    for n, kind in enumerate(sorted(hostile)):
        body += [hostile[kind], good[n + 1]]
    before = service.metric("sensr_ingest_http_rejects_total", reason="frame_unsupported")
    status, answer = push_stream(service, (camera.username, "first"), mpjpeg_stream(body))
    assert status == 200, answer
    assert answer["frames"] == len(good)
    assert answer["refused_frames"] == {"too_many_pixels": 2, "unsupported": 3}
    events = tap.collect(camera.username, len(good) + 1, timeout=10)
    assert [e.jpeg for e in events] == good
    assert [e.sequence for e in events] == list(range(len(good)))
    assert service.metric("sensr_ingest_http_rejects_total", reason="frame_unsupported") == before + 3


# -- finding 3: revoking a login ends the uploads already open ------------------------------------


def open_stream(service: IngestHttp, camera: str, password: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
    sock.sendall(request_head("POST", f"/upload/{camera}", (camera, password),
                              "Content-Type: multipart/x-mixed-replace;boundary=ffmpeg\r\n"
                              "Transfer-Encoding: chunked\r\n"))
    return sock


def keep_sending(sock: socket.socket, frames: list[bytes]) -> None:
    """Send on, as a camera that did not notice; the server may have closed already."""
    try:
        for jpeg in frames:
            sock.sendall(chunk(mpjpeg_stream([jpeg])))
    except OSError:
        pass


def test_rotated_then_disabled_login_ends_the_open_stream(service: IngestHttp, kafka_bootstrap: str,
                                                          camera: CameraLogin, tap: FrameTap) -> None:
    """The issue's scenario: 2 frames, rotate (401), disable (403), keep sending."""
    name = camera.username
    frames = [make_jpeg(64, 48, seed=n) for n in range(6)]
    with open_stream(service, name, "first") as sock:
        sock.sendall(chunk(mpjpeg_stream(frames[:2])) + chunk(frames[2][:300]))  # and a frame begun
        assert [e.jpeg for e in tap.collect(name, 2)] == frames[:2]

        rotated = camera.with_password("second")
        update_camera(kafka_bootstrap, rotated)
        eventually(lambda: login_status(service, name, "first") == 401, timeout=30)
        # Closed by the server although the camera sends nothing now.
        status_line, answer = answer_of(until_closed(sock))
        assert status_line.startswith("HTTP/1.1 401") and answer["error"] == "login_revoked"

        update_camera(kafka_bootstrap, replace(rotated, enabled=False))
        eventually(lambda: login_status(service, name, "second") == 403, timeout=30)
        keep_sending(sock, [frames[2][300:], *frames[3:]])
    assert tap.quiet(name, 2.0) == []


@pytest.mark.parametrize("change", ["disable", "delete"])
def test_disabled_or_deleted_camera_ends_the_open_stream(service: IngestHttp, kafka_bootstrap: str,
                                                         camera: CameraLogin, tap: FrameTap, change: str) -> None:
    name = camera.username
    frames = [make_jpeg(64, 48, seed=n) for n in range(10, 14)]
    with open_stream(service, name, "first") as sock:
        sock.sendall(chunk(mpjpeg_stream(frames[:1])))
        assert [e.jpeg for e in tap.collect(name, 1)] == frames[:1]
        if change == "disable":
            update_camera(kafka_bootstrap, replace(camera, enabled=False))
        else:
            delete_camera(kafka_bootstrap, name)
        status_line, answer = answer_of(until_closed(sock))
        assert status_line.startswith("HTTP/1.1 403" if change == "disable" else "HTTP/1.1 404")
        assert answer["error"] == "login_revoked"
        keep_sending(sock, frames[1:])
    assert tap.quiet(name, 2.0) == []


def test_a_changed_record_that_keeps_the_login_keeps_the_stream(service: IngestHttp, kafka_bootstrap: str,
                                                                camera: CameraLogin, tap: FrameTap) -> None:
    name = camera.username
    frames = [make_jpeg(64, 48, seed=n) for n in range(20, 23)]
    with open_stream(service, name, "first") as sock:
        sock.sendall(chunk(mpjpeg_stream(frames[:1])))
        assert [e.jpeg for e in tap.collect(name, 1)] == frames[:1]
        update_camera(kafka_bootstrap, replace(camera, retention_days=3, updated_at=time.time()))
        known_camera(kafka_bootstrap, service, name + "later")  # one partition: the change came before it
        sock.sendall(chunk(mpjpeg_stream(frames[1:])) + b"0\r\n\r\n")
        status_line, _headers, body = read_response(sock)
        assert status_line == "HTTP/1.1 200 OK" and json.loads(body)["frames"] == 3
    assert [e.jpeg for e in tap.collect(name, 2)] == frames[1:]


def test_rotated_login_ends_a_photo_upload_in_progress(service: IngestHttp, kafka_bootstrap: str,
                                                       camera: CameraLogin, tap: FrameTap) -> None:
    name = camera.username
    jpeg = make_jpeg(320, 240, seed=30)
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
        sock.sendall(request_head("PUT", f"/photo/{name}", (name, "first"), f"Content-Length: {len(jpeg)}\r\n")
                     + jpeg[:1000])
        update_camera(kafka_bootstrap, camera.with_password("second"))
        status_line, answer = answer_of(until_closed(sock))
        assert status_line.startswith("HTTP/1.1 401") and answer["error"] == "login_revoked"
        try:
            sock.sendall(jpeg[1000:])
        except OSError:
            pass
    assert tap.quiet(name, 2.0) == []


# -- finding 7: a refused body is not read to its declared length ---------------------------------


def test_refused_uploads_trickling_their_body_are_closed(service: IngestHttp, camera: CameraLogin) -> None:
    sockets = []
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", service.port), timeout=10)
        sock.sendall(request_head("PUT", f"/photo/{camera.username}", (camera.username, "wrong"),
                                  "Content-Length: 100000\r\n") + b"\xff")
        sock.setblocking(False)
        sockets.append(sock)
    received = {sock: b"" for sock in sockets}
    open_ = set(sockets)
    deadline = time.monotonic() + CLOSED_WITHIN
    next_byte = time.monotonic() + 2
    try:
        while open_ and time.monotonic() < deadline:
            readable, _, _ = select.select(list(open_), [], [], 0.2)
            for sock in readable:
                try:
                    more = sock.recv(65536)
                except ConnectionResetError:
                    more = b""
                received[sock] += more
                if not more:
                    open_.discard(sock)
            if time.monotonic() >= next_byte:  # one more byte every 2 s, as the attacker does
                next_byte += 2
                for sock in list(open_):
                    try:
                        sock.send(b"\xd8")
                    except OSError:
                        open_.discard(sock)
        assert not open_, f"{len(open_)} of 20 refused uploads still open after {CLOSED_WITHIN:g} s"
        assert all(data.startswith(b"HTTP/1.1 401") for data in received.values())
    finally:
        for sock in sockets:
            sock.close()


def test_refusal_closes_the_connection_and_the_client_comes_back(service: IngestHttp, camera: CameraLogin,
                                                                 tap: FrameTap) -> None:
    name = camera.username
    jpegs = [make_jpeg(80, 60, seed=n) for n in (41, 42, 43)]
    connection = service.connection()
    try:
        answers = []
        for n, jpeg in enumerate(jpegs):
            password = "first" if n != 1 else "wrong"
            connection.request("PUT", f"/photo/{name}", body=jpeg,
                               headers={"Authorization": basic(name, password), "Content-Type": "image/jpeg"})
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.will_close))
        # kept alive after a 200; closed after the refusal (http.client reconnects by itself)
        assert answers == [(200, False), (401, True), (200, False)]
    finally:
        connection.close()
    assert [e.jpeg for e in tap.collect(name, 2)] == [jpegs[0], jpegs[2]]


def test_wget_answers_the_challenge_of_a_large_photo(service: IngestHttp, camera: CameraLogin, tap: FrameTap,
                                                     tmp_path: Path) -> None:
    """wget sends the whole body before reading the 401: it must get the challenge intact
    (not a reset connection) and come back with the credentials."""
    jpeg = make_jpeg(1600, 1200, seed=50, quality=95)
    assert len(jpeg) > 1024 * 1024
    path = tmp_path / "large.jpg"
    path.write_bytes(jpeg)
    done = run(["wget", "-t", "1", f"--user={camera.username}", "--password=first", f"--post-file={path}",
                "--header", "Content-Type: image/jpeg", service.url(f"/photo/{camera.username}")], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "401" in done.stderr
    assert [e.jpeg for e in tap.collect(camera.username, 1)] == [jpeg]


def test_curl_expecting_100_continue_is_refused_before_the_body(service: IngestHttp, camera: CameraLogin,
                                                                tap: FrameTap, tmp_path: Path) -> None:
    jpeg = make_jpeg(320, 240, seed=60)
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg)
    url = service.url(f"/photo/{camera.username}")
    expect = ["-H", "Expect: 100-continue", "-T", str(path)]
    assert curl_status([*expect, "-u", f"{camera.username}:wrong", url])[0] == 401
    assert curl_status([*expect, "-u", f"{camera.username}:first", url])[0] == 200
    assert [e.jpeg for e in tap.collect(camera.username, 1)] == [jpeg]


# -- control characters never reach Kafka -----------------------------------------------------------


@pytest.mark.parametrize("name", ["cam%00x", "cam%0d%0aX-Evil:1", "cam%1b[31m", "cam%7f"])
def test_camera_names_with_control_characters_get_400(service: IngestHttp, name: str) -> None:
    for path in (f"/photo/{name}", f"/upload/{name}"):
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
            sock.sendall(request_head("POST", path, ("x", "y"), "Content-Length: 0\r\n"))
            status_line, _headers, body = read_response(sock)
            assert status_line.startswith("HTTP/1.1 400") and json.loads(body)["error"] == "bad_camera_name"


# -- the parts: a held login, the table's listeners ----------------------------------------------


def test_held_login_is_revoked_by_a_change_that_ends_the_login_only() -> None:
    table = CameraTable(CoreSettings(), KafkaSettings())
    login = CameraLogin.create("cam1", "id1", "owner", "pw")

    def apply(record: CameraLogin | None) -> None:
        table.apply(b"cam1", record.to_value() if record else None)

    apply(login)
    held = HeldLogin(table, "cam1", Credentials("cam1", "pw"), table.get("cam1"))
    assert held.revoked() is None
    apply(replace(login, retention_days=7))
    assert held.revoked() is None
    apply(login.with_password("new"))
    assert (held.revoked().status, held.revoked().reason) == (401, "bad_password")
    apply(replace(login, enabled=False))
    assert held.revoked().status == 403
    apply(None)
    assert held.revoked().status == 404


def test_login_watch_tells_open_uploads_of_the_changed_camera_on_the_loop() -> None:
    table = CameraTable(CoreSettings(), KafkaSettings())
    watch = LoginWatch(table)
    record = CameraLogin.create("cam1", "id1", "owner", "pw").to_value()

    async def scenario() -> list[str]:
        told: list[str] = []
        cam2_told = asyncio.Event()
        stop: Callable[[], None] = watch.watch("cam1", lambda: told.append("cam1"))
        watch.watch("cam2", lambda: (told.append("cam2"), cam2_told.set()))
        await asyncio.to_thread(table.apply, b"cam1", record)  # from another thread, as the table's
        stop()  # once cam1's news is on its way: the loop runs it before this task's next turn
        await asyncio.to_thread(table.apply, b"cam1", None)
        await asyncio.to_thread(table.apply, b"cam2", None)
        await asyncio.wait_for(cam2_told.wait(), 10)  # told in order: cam1's second news would be here by now
        return told

    assert asyncio.run(scenario()) == ["cam1", "cam2"]
