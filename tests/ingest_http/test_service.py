"""ingest_http against the real Kafka, driven by real clients: the seed's curl, wget and
ffmpeg commands as subprocesses, http.client and raw sockets for what they cannot do
(random chunking, HTTP/1.0 keep-alive, Expect: 100-continue, disconnects mid-frame)."""

from __future__ import annotations

import io
import itertools
import json
import random
import re
import socket
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from urllib.request import urlopen

import pytest
from PIL import Image

from infra.kafka_server import KafkaServer
from sensr.frames import FrameEvent
from tests.support.harness import eventually
from tests.support.ingest_http import (IngestHttp, basic, chunk, curl_status, push_stream, read_response, request_head,
                                       run, start_ingest_http)
from tests.support.kafka_tap import FrameTap, delete_camera, register_camera, update_camera
from tests.support.jpegs import make_jpeg, mpjpeg_stream, sample_frames

MAX_FRAME_BYTES = 1024 * 1024
IDLE_TIMEOUT = 5
HEADER_TIMEOUT = 3


@pytest.fixture(scope="module")
def cameras(kafka_bootstrap: str) -> dict[str, tuple[str, str]]:
    """Logins registered before the service starts: an ordinary camera, a second one and a disabled one."""
    suffix = str(time.time_ns())[-9:]
    logins = {"cam": (f"cam{suffix}", "l4hqpy0ywm"), "other": (f"oth{suffix}", "pw-other"),
              "off": (f"off{suffix}", "pw-off")}
    for key, (username, password) in logins.items():
        register_camera(kafka_bootstrap, username, password, enabled=key != "off")
    return logins


@pytest.fixture(scope="module")
def service(kafka_bootstrap: str, cameras: dict[str, tuple[str, str]],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestHttp]:
    running = start_ingest_http(kafka_bootstrap, tmp_path_factory.mktemp("ingest_http"),
                                max_frame_bytes=MAX_FRAME_BYTES, auth_failure_limit=1000,
                                http_idle_timeout=IDLE_TIMEOUT, http_header_timeout=HEADER_TIMEOUT)
    yield running
    running.process.stop()


@pytest.fixture
def login(cameras: dict[str, tuple[str, str]]) -> tuple[str, str]:
    return cameras["cam"]


@pytest.fixture
def photo(tmp_path: Path) -> tuple[Path, bytes]:
    jpeg = make_jpeg(320, 240, seed=random.randrange(1 << 30))
    path = tmp_path / "Rocketship.jpg"
    path.write_bytes(jpeg)
    return path, jpeg


def stored(tap: FrameTap, camera: str, count: int = 1) -> list[FrameEvent]:
    events = tap.collect(camera, count, timeout=30)
    assert len(events) == count, f"expected {count} frames of {camera} in Kafka, got {len(events)}"
    return events


# -- photo upload: the seed's commands --------------------------------------------------------


def test_seed_curl_put_is_stored_byte_identical(service: IngestHttp, login: tuple[str, str],
                                                photo: tuple[Path, bytes], tap: FrameTap) -> None:
    user, password = login
    path, jpeg = photo
    status, body = curl_status(["-T", str(path), "-H", "Content-Type: image/jpeg",
                                service.url(f"/photo/{user}", login)])
    assert status == 200, body
    [event] = stored(tap, user)
    assert event.jpeg == jpeg
    assert (event.camera, event.source, event.client) == (user, "http", "127.0.0.1")
    answer = json.loads(body)
    assert (event.frame_id, event.timestamp_us, len(jpeg)) == (answer["frame_id"], answer["timestamp_us"],
                                                                answer["bytes"])
    assert event.stream_id is None and event.sequence is None


def test_seed_wget_with_auth_no_challenge(service: IngestHttp, login: tuple[str, str], photo: tuple[Path, bytes],
                                          tap: FrameTap, tmp_path: Path) -> None:
    user, password = login
    path, jpeg = photo
    done = run(["wget", "--auth-no-challenge", f"--user={user}", f"--password={password}", f"--post-file={path}",
                "--header", "Content-Type: image/jpeg", service.url(f"/photo/{user}")], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [event] = stored(tap, user)
    assert event.jpeg == jpeg and event.source == "http"
    assert json.loads((tmp_path / user).read_text())["frame_id"] == event.frame_id


def test_seed_wget_answering_the_challenge(service: IngestHttp, login: tuple[str, str], photo: tuple[Path, bytes],
                                           tap: FrameTap, tmp_path: Path) -> None:
    user, password = login
    path, jpeg = photo
    challenges = service.metric("sensr_ingest_http_rejects_total", reason="unauthorized")
    done = run(["wget", f"--user={user}", f"--password={password}", f"--post-file={path}",
                "--header", "Content-Type: image/jpeg", service.url(f"/photo/{user}")], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "401" in done.stderr  # wget showed the challenge it answered
    assert service.metric("sensr_ingest_http_rejects_total", reason="unauthorized") == challenges + 1
    [event] = stored(tap, user)
    assert event.jpeg == jpeg


# -- photo upload: refusals -----------------------------------------------------------------------


def test_missing_credentials_get_401_with_a_basic_challenge(service: IngestHttp, login: tuple[str, str],
                                                            photo: tuple[Path, bytes]) -> None:
    done = run(["curl", "-s", "-i", "-T", str(photo[0]), service.url(f"/photo/{login[0]}")])
    assert done.stdout.startswith("HTTP/1.1 401")
    assert re.search(r'(?im)^WWW-Authenticate: Basic realm="Sensr"', done.stdout)


@pytest.mark.parametrize("wrong", ["password", "username"])
def test_wrong_credentials_get_401_with_a_challenge(service: IngestHttp, cameras: dict[str, tuple[str, str]],
                                                    photo: tuple[Path, bytes], tap: FrameTap, wrong: str) -> None:
    user, password = cameras["cam"]
    credentials = (user, "not-the-password") if wrong == "password" else cameras["other"]
    done = run(["curl", "-s", "-i", "-T", str(photo[0]), service.url(f"/photo/{user}", credentials)])
    assert done.stdout.startswith("HTTP/1.1 401"), done.stdout
    assert re.search(r'(?im)^WWW-Authenticate: Basic realm="Sensr"', done.stdout)
    assert json.loads(done.stdout.split("\n\n")[-1])["error"] == "bad_password"
    assert tap.quiet(user, 1.0) == []


def test_unknown_camera_gets_404(service: IngestHttp, photo: tuple[Path, bytes]) -> None:
    status, body = curl_status(["-T", str(photo[0]), service.url("/photo/nosuchcam", ("nosuchcam", "x"))])
    assert status == 404 and json.loads(body)["error"] == "unknown_camera"


def test_disabled_camera_gets_403(service: IngestHttp, cameras: dict[str, tuple[str, str]],
                                  photo: tuple[Path, bytes]) -> None:
    user, _ = cameras["off"]
    status, body = curl_status(["-T", str(photo[0]), service.url(f"/photo/{user}", cameras["off"])])
    assert status == 403 and json.loads(body)["error"] == "disabled"


@pytest.mark.parametrize(("body", "reason", "words"), [
    (b"hello, this is text", "not_jpeg", "not a JPEG"),
    (b"", "empty", "empty"),
    (make_jpeg(64, 48)[:-200], "truncated", "truncated"),
    (make_jpeg(64, 48) + make_jpeg(32, 32), "multiple_frames", "exactly one"),
])
def test_not_one_complete_jpeg_gets_400_with_a_clear_message(service: IngestHttp, login: tuple[str, str],
                                                             tmp_path: Path, tap: FrameTap, body: bytes,
                                                             reason: str, words: str) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(body)
    status, answer = curl_status(["-T", str(path), service.url(f"/photo/{login[0]}", login)])
    assert status == 400
    assert json.loads(answer)["error"] == reason and words in json.loads(answer)["message"]
    assert tap.quiet(login[0], 0.5) == []


def test_over_the_limit_gets_413_without_the_body_being_sent(service: IngestHttp, login: tuple[str, str],
                                                             tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(make_jpeg(16, 16) + b"\0" * (2 * MAX_FRAME_BYTES))
    status, answer = curl_status(["-T", str(big), service.url(f"/photo/{login[0]}", login)])
    assert status == 413 and json.loads(answer)["error"] == "too_large"
    # Content-Length alone decides: the answer comes although no body byte was sent.
    for expect in ("", "Expect: 100-continue\r\n"):
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
            sock.sendall(request_head("POST", f"/photo/{login[0]}", login,
                                      f"Content-Length: {2 * MAX_FRAME_BYTES}\r\n{expect}"))
            status_line, _headers, _body = read_response(sock)
            assert status_line == "HTTP/1.1 413 Request Entity Too Large"


def test_chunked_photo_over_the_limit_gets_413(service: IngestHttp, login: tuple[str, str]) -> None:
    connection = service.connection()
    pieces = [make_jpeg(16, 16)] + [b"\0" * 65536] * (MAX_FRAME_BYTES // 65536 + 4)
    try:
        connection.request("POST", f"/photo/{login[0]}", body=iter(pieces), encode_chunked=True,
                           headers={"Authorization": basic(*login), "Transfer-Encoding": "chunked"})
        assert connection.getresponse().status == 413
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed while the body was still going out: also a refusal
    finally:
        connection.close()


@pytest.mark.parametrize(("method", "path"), [("GET", "/photo/{cam}"), ("DELETE", "/photo/{cam}"),
                                              ("GET", "/upload/{cam}"), ("PUT", "/upload/{cam}")])
def test_other_methods_get_405(service: IngestHttp, login: tuple[str, str], method: str, path: str) -> None:
    status, body = curl_status(["-X", method, service.url(path.format(cam=login[0]), login)])
    assert status == 405 and json.loads(body)["error"] == "method_not_allowed"


# -- protocol details -------------------------------------------------------------------------------


def test_expect_100_continue_refuses_before_the_body_and_accepts_after(service: IngestHttp, login: tuple[str, str],
                                                                       tap: FrameTap) -> None:
    jpeg = make_jpeg(200, 100, seed=11)
    extra = f"Content-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\nExpect: 100-continue\r\n"
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(request_head("POST", f"/photo/{login[0]}", (login[0], "wrong"), extra))
        status_line, headers, _ = read_response(sock)
        assert status_line.startswith("HTTP/1.1 401") and headers["www-authenticate"].startswith("Basic")
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(request_head("POST", f"/photo/{login[0]}", login, extra))
        assert sock.recv(100).startswith(b"HTTP/1.1 100")
        sock.sendall(jpeg)
        status_line, _, body = read_response(sock)
        assert status_line == "HTTP/1.1 200 OK", body
    assert stored(tap, login[0])[0].jpeg == jpeg


def test_http10_keep_alive_as_in_the_seed(service: IngestHttp, login: tuple[str, str], tap: FrameTap) -> None:
    jpegs = [make_jpeg(80, 60, seed=n) for n in (21, 22)]
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        for jpeg in jpegs:
            extra = ("User-Agent: Wget/1.11.4\r\nAccept: */*\r\nConnection: Keep-Alive\r\n"
                     f"Content-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n")
            sock.sendall(request_head("POST", f"/photo/{login[0]}", login, extra, version="HTTP/1.0") + jpeg)
            status_line, headers, _ = read_response(sock)
            assert status_line == "HTTP/1.1 200 OK" and headers["connection"].lower() == "keep-alive"
    assert [e.jpeg for e in stored(tap, login[0], 2)] == jpegs


def test_logins_follow_the_camera_topic_live(service: IngestHttp, kafka_bootstrap: str, unique_name: str,
                                             photo: tuple[Path, bytes]) -> None:
    path = photo[0]

    def status(password: str) -> int:
        return curl_status(["-T", str(path), service.url(f"/photo/{unique_name}", (unique_name, password))])[0]

    def answered(password: str, expected: int) -> None:
        eventually(lambda: status(password) == expected, 20, what=f"{expected} for password {password!r}")

    created = register_camera(kafka_bootstrap, unique_name, "first")
    answered("first", 200)
    rotated = created.with_password("second")
    update_camera(kafka_bootstrap, rotated)
    answered("first", 401)
    assert status("second") == 200
    update_camera(kafka_bootstrap, replace(rotated, enabled=False))
    answered("second", 403)
    delete_camera(kafka_bootstrap, unique_name)
    answered("second", 404)


# -- MJPEG stream push ------------------------------------------------------------------------------


def mpjpeg_parts(data: bytes) -> list[bytes]:
    """The JPEGs of an mpjpeg file, cut by each part's Content-length (not by a JPEG scanner)."""
    parts = []
    for match in re.finditer(rb"Content-length: (\d+)\r\n\r\n", data, re.IGNORECASE):
        parts.append(data[match.end():match.end() + int(match.group(1))])
    return parts


def test_seed_ffmpeg_mpjpeg_push(service: IngestHttp, login: tuple[str, str], tap: FrameTap,
                                 tmp_path: Path) -> None:
    source = ["ffmpeg", "-hide_banner", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-t", "3",
              "-f", "mpjpeg"]
    done = run([*source, service.url(f"/upload/{login[0]}", login)])
    assert done.returncode == 0, done.stderr
    sent = int(re.findall(r"frame=\s*(\d+)", done.stderr)[-1])
    assert sent == 30
    # The same command into a file gives the same bytes (testsrc and the encoder are deterministic).
    assert run([*source, str(tmp_path / "reference.mjpeg")]).returncode == 0
    expected = mpjpeg_parts((tmp_path / "reference.mjpeg").read_bytes())
    assert len(expected) == sent

    events = stored(tap, login[0], sent)
    assert [e.jpeg for e in events] == expected
    assert [e.sequence for e in events] == list(range(sent))
    assert len({e.stream_id for e in events}) == 1 and all(e.source == "mjpeg" for e in events)
    stamps = [e.timestamp_us for e in events]
    assert all(a < b for a, b in zip(stamps, stamps[1:]))
    assert Image.open(io.BytesIO(events[-1].jpeg)).size == (320, 240)


def random_pieces(data: bytes, seed: int) -> Iterable[bytes]:
    rng = random.Random(seed)
    start = 0
    while start < len(data):
        size = rng.choice((1, 2, 7, 100, 1000, 4096, 30000))
        yield data[start:start + size]
        start += size


def test_raw_concatenated_stream_in_random_chunks(service: IngestHttp, login: tuple[str, str],
                                                  tap: FrameTap) -> None:
    frames = [*sample_frames(), *(make_jpeg(160, 120, seed=n, exif_thumbnail=n % 2 == 0) for n in range(40, 50))]
    status, answer = push_stream(service, login, random_pieces(b"".join(frames), seed=5))
    assert status == 200, answer
    assert answer["frames"] == len(frames) and answer["skipped_bytes"] == 0 and answer["truncated_bytes"] == 0
    events = stored(tap, login[0], len(frames))
    assert [e.jpeg for e in events] == frames
    assert [e.sequence for e in events] == list(range(len(frames)))


def test_exif_thumbnails_stay_inside_their_frames(service: IngestHttp, login: tuple[str, str],
                                                  tap: FrameTap) -> None:
    frames = [make_jpeg(120, 90, seed=n, exif_thumbnail=True, progressive=n % 2 == 1) for n in range(60, 66)]
    status, answer = push_stream(service, login, mpjpeg_stream(frames))  # with a Content-Length
    assert status == 200 and answer["frames"] == len(frames)
    assert [e.jpeg for e in stored(tap, login[0], len(frames))] == frames
    assert tap.quiet(login[0], 0.5) == []  # no thumbnail came out as a frame of its own


def test_oversized_stream_frame_is_dropped_and_counted(service: IngestHttp, login: tuple[str, str],
                                                       tap: FrameTap) -> None:
    small = [make_jpeg(64, 48, seed=n) for n in (70, 71)]
    big = make_jpeg(1024, 1024, quality=95, seed=72)
    assert len(big) > MAX_FRAME_BYTES
    status, answer = push_stream(service, login, iter([small[0], big, small[1]]))
    assert status == 200 and (answer["frames"], answer["oversized_frames"]) == (2, 1)
    assert [e.jpeg for e in stored(tap, login[0], 2)] == small


def test_stream_without_length_or_chunking_gets_411(service: IngestHttp, login: tuple[str, str]) -> None:
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(request_head("POST", f"/upload/{login[0]}", login, version="HTTP/1.0"))
        assert read_response(sock)[0].startswith("HTTP/1.1 411")


def test_disconnect_mid_frame_publishes_only_complete_frames(service: IngestHttp, login: tuple[str, str],
                                                             tap: FrameTap) -> None:
    frames = [make_jpeg(96, 64, seed=n) for n in range(80, 84)]
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(request_head("POST", f"/upload/{login[0]}", login, "Transfer-Encoding: chunked\r\n"))
        sock.sendall(chunk(b"".join(frames[:3]) + frames[3][: len(frames[3]) // 2]))
        assert [e.jpeg for e in stored(tap, login[0], 3)] == frames[:3]
    assert tap.quiet(login[0], 2.0) == []


def test_silent_stream_is_closed_after_the_idle_timeout(service: IngestHttp, login: tuple[str, str],
                                                        tap: FrameTap) -> None:
    jpeg = make_jpeg(96, 64, seed=90)
    with socket.create_connection(("127.0.0.1", service.port), timeout=IDLE_TIMEOUT + 20) as sock:
        sock.sendall(request_head("POST", f"/upload/{login[0]}", login, "Transfer-Encoding: chunked\r\n"))
        sock.sendall(chunk(jpeg))
        assert sock.recv(1000) == b""  # closed by the server, not by this socket's timeout
    assert stored(tap, login[0])[0].jpeg == jpeg


def test_slow_headers_are_cut_off(service: IngestHttp) -> None:
    with socket.create_connection(("127.0.0.1", service.port), timeout=HEADER_TIMEOUT + 20) as sock:
        sock.sendall(b"POST /photo/x HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert sock.recv(1000) == b""


def test_metrics_count_frames_rejects_and_produce_latency(service: IngestHttp, login: tuple[str, str],
                                                          photo: tuple[Path, bytes]) -> None:
    stored = {"edge": "http", "source": "http"}  # /metrics lists labels in alphabetical order
    before = service.metric("sensr_frames_published_total", edge="http", outcome="stored", source="http")
    assert curl_status(["-T", str(photo[0]), service.url(f"/photo/{login[0]}", login)])[0] == 200
    assert service.metric("sensr_frames_published_total", edge="http", outcome="stored", source="http") == before + 1
    assert service.metric("sensr_frames_published_bytes_total", **stored) >= len(photo[1])
    assert service.metric("sensr_frame_ack_seconds_count", **stored) >= 1
    refused = service.metric("sensr_ingest_http_rejects_total", reason="unknown_camera")
    assert curl_status(["-T", str(photo[0]), service.url("/photo/ghost", ("ghost", "x"))])[0] == 404
    assert service.metric("sensr_ingest_http_rejects_total", reason="unknown_camera") == refused + 1
    health = json.loads(urlopen(service.url("/healthz"), timeout=5).read())
    assert health == {"alive": True}


# -- own services: failed-login slow-down, broker outage --------------------------------------------


def test_failed_logins_from_one_address_are_slowed_then_refused(kafka_bootstrap: str, unique_name: str,
                                                                tmp_path: Path, photo: tuple[Path, bytes]) -> None:
    register_camera(kafka_bootstrap, unique_name, "right")
    service = start_ingest_http(kafka_bootstrap, tmp_path, auth_failure_limit=2, auth_failure_delay=0.2)
    try:
        jpeg = photo[1]

        def upload(password: str) -> int:
            connection = service.connection()
            try:
                connection.request("POST", f"/photo/{unique_name}", body=jpeg,
                                   headers={"Authorization": basic(unique_name, password)})
                return connection.getresponse().status
            finally:
                connection.close()

        assert [upload("wrong"), upload("wrong")] == [401, 401]
        assert upload("right") == 200  # slowed, not refused
        assert service.metric("sensr_ingest_http_slowed_logins_total") == 1
        with ThreadPoolExecutor(24) as pool:
            statuses = list(pool.map(upload, ["wrong"] * 24))
        assert set(statuses) == {401, 429} and statuses.count(401) <= 11
    finally:
        service.process.stop()


def test_broker_outage_gives_503_and_nothing_answered_200_is_lost(private_kafka: KafkaServer, tmp_path: Path,
                                                                  unique_name: str) -> None:
    bootstrap = private_kafka.bootstrap
    login = (unique_name, "pw")
    register_camera(bootstrap, *login)
    service = start_ingest_http(bootstrap, tmp_path, kafka_request_timeout_ms=3000)
    tap = FrameTap(bootstrap)
    accepted: list[str] = []

    def upload(seed: int) -> int:
        connection = service.connection()
        try:
            connection.request("POST", f"/photo/{unique_name}", body=make_jpeg(64, 48, seed=seed),
                               headers={"Authorization": basic(*login)})
            response = connection.getresponse()
            answer = json.loads(response.read())
            if response.status == 200:
                accepted.append(answer["frame_id"])
            return response.status
        finally:
            connection.close()

    try:
        assert upload(1) == 200
        private_kafka.stop()
        started = time.monotonic()
        assert upload(2) == 503
        assert time.monotonic() - started < 15  # bounded by the acknowledgement timeout (3 s)
        status, answer = push_stream(service, login, mpjpeg_stream([make_jpeg(32, 32, seed=3)]))
        assert status == 503 and answer["error"] == "kafka_unavailable"

        private_kafka.start()
        seeds = itertools.count(10)

        def stored_again() -> bool:
            status = upload(next(seeds))
            assert status in (200, 503), status
            return status == 200

        eventually(stored_again, 90, 0.5, what="an upload stored after the broker came back")
        assert [upload(n) for n in range(100, 105)] == [200] * 5
        found = {event.frame_id for event in tap.collect(unique_name, count=len(accepted), timeout=60)}
        assert set(accepted) <= found
    finally:
        tap.close()
        service.process.stop()
