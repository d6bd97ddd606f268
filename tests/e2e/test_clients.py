"""End to end through the whole stack: the four services as separate processes on the
session's Kafka and SeaweedFS, a SQLite index, and the real clients the seed names. A
frame uploaded by each client is listed by the API and its bytes come back equal."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
import requests

from launcher.service_stack import ServiceStack
from tests.support.stack import ftp_store, put_photo, wait_until_edges_know
from tests.support.follower import Follower
from tests.support.jpegs import make_jpeg
from workload.api_client import ApiClient, CameraLogin

CLIENT_TIMEOUT = 60


@pytest.fixture(scope="module")
def user(stack: ServiceStack) -> ApiClient:
    return ApiClient(stack.api_url)


@pytest.fixture
def camera(user: ApiClient, stack: ServiceStack) -> CameraLogin:
    """A new camera of the module's user, its login already known to both edges."""
    login = user.create_camera("e2e camera")
    wait_until_edges_know(login)
    return login


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT,
                          stdin=subprocess.DEVNULL)


def only_frame(user: ApiClient, camera: CameraLogin, source: str) -> dict:
    [frame] = user.wait_for_frames(camera.id, 1, timeout=60)
    assert frame["source"] == source
    return frame


def photo_file(tmp_path: Path, seed: int, name: str = "f.jpg") -> tuple[Path, bytes]:
    jpeg = make_jpeg(320, 240, seed=seed)
    path = tmp_path / name
    path.write_bytes(jpeg)
    return path, jpeg


def test_curl_photo(stack: ServiceStack, user: ApiClient, camera: CameraLogin, tmp_path: Path) -> None:
    path, jpeg = photo_file(tmp_path, 11)
    result = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30",
                  "-T", path.name, "-H", "Content-Type: image/jpeg",
                  f"http://{camera.username}:{camera.password}@{camera.host}:{camera.http_port}/photo/{camera.username}"],
                 tmp_path)
    assert result.returncode == 0 and result.stdout == "200", result.stdout + result.stderr
    frame = only_frame(user, camera, "http")
    assert (frame["width"], frame["height"], frame["size"]) == (320, 240, len(jpeg))
    assert user.image(frame) == jpeg


@pytest.mark.parametrize("challenge", [False, True], ids=["auth-no-challenge", "answers-challenge"])
def test_wget_photo(stack: ServiceStack, user: ApiClient, camera: CameraLogin, tmp_path: Path, challenge: bool) -> None:
    path, jpeg = photo_file(tmp_path, 12 + challenge)
    argv = ["wget", "-q", "-O", "-", "--tries=1", "--timeout=30", f"--post-file={path.name}",
            "--header=Content-Type: image/jpeg"]
    if not challenge:
        argv.append("--auth-no-challenge")
    result = run([*argv, f"http://{camera.username}:{camera.password}@{camera.host}:{camera.http_port}"
                         f"/photo/{camera.username}"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    frame = only_frame(user, camera, "http")
    assert user.image(frame) == jpeg


def mpjpeg_frames(data: bytes) -> list[bytes]:
    """The JPEGs of an mpjpeg file as ffmpeg writes it (parts with Content-length)."""
    frames, pos = [], 0
    for match in re.finditer(rb"Content-length: (\d+)\r\n\r\n", data, re.IGNORECASE):
        if match.start() < pos:
            continue
        start = match.end()
        pos = start + int(match.group(1))
        frames.append(data[start:pos])
    return frames


def test_ffmpeg_mjpeg_stream(stack: ServiceStack, user: ApiClient, camera: CameraLogin, tmp_path: Path) -> None:
    source = ["ffmpeg", "-hide_banner", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=5", "-t", "2",
              "-f", "mpjpeg"]
    result = run([*source, f"http://{camera.username}:{camera.password}@{camera.host}:{camera.http_port}"
                           f"/upload/{camera.username}"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    sent = int(re.findall(r"frame=\s*(\d+)", result.stderr)[-1])
    assert sent == 10
    # The same command into a file gives the very bytes it streamed (the encoder is
    # deterministic): the frames to compare with.
    assert run([*source, "-y", "reference.mjpeg"], tmp_path).returncode == 0
    expected = mpjpeg_frames((tmp_path / "reference.mjpeg").read_bytes())
    assert len(expected) == sent

    frames = user.wait_for_frames(camera.id, sent, timeout=60)
    assert len(frames) == sent
    assert {frame["source"] for frame in frames} == {"mjpeg"}
    assert [user.image(frame) for frame in frames] == expected  # in order, byte for byte
    assert len(user.frames(camera.id)) == sent  # and no more turn up


def test_ftplib_passive_stor(stack: ServiceStack, user: ApiClient, camera: CameraLogin) -> None:
    jpeg = make_jpeg(320, 240, seed=14)
    ftp = camera.ftp()
    try:
        assert ftp.storbinary("STOR snap_0001.jpg", io.BytesIO(jpeg)).startswith("226")
    finally:
        ftp.quit()
    frame = only_frame(user, camera, "ftp")
    assert frame["filename"] == "snap_0001.jpg"
    assert user.image(frame) == jpeg


def test_lftp_put(stack: ServiceStack, user: ApiClient, camera: CameraLogin, tmp_path: Path) -> None:
    path, jpeg = photo_file(tmp_path, 15, "lftp.jpg")
    script = ("set ftp:passive-mode true; set net:max-retries 1; set net:timeout 20; "
              "set cmd:fail-exit true; set xfer:clobber true; put lftp.jpg -o upload.jpg; bye")
    result = run(["lftp", "-u", f"{camera.username},{camera.password}", "-p", str(camera.ftp_port),
                  "-e", script, camera.host], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    frame = only_frame(user, camera, "ftp")
    assert frame["filename"] == "upload.jpg"
    assert user.image(frame) == jpeg


def test_services_are_separate_processes_and_healthy(stack: ServiceStack) -> None:
    pids = {service: stack.pid(service) for service in ("api", "catalog_worker", "ingest_http", "ingest_ftp")}
    assert len(set(pids.values())) == 4 and all(pids.values())
    for service in pids:
        assert stack.running(service) and stack.healthy(service) and stack.ready(service), service


def test_example_subscriber_saves_what_cameras_upload(stack: ServiceStack, user: ApiClient, camera: CameraLogin,
                                                      tmp_path: Path) -> None:
    """examples/follow_camera.py, the documented stream subscriber, follows a camera while
    it uploads by HTTP and FTP: it saves exactly the frames the API lists, byte for byte,
    each under its frame id."""
    follower = Follower(stack.kafka_bootstrap, camera.username, tmp_path / "frames", "--max-frames", "3")
    try:
        follower.wait_following()
        uploaded = [make_jpeg(320, 240, seed=seed) for seed in (31, 32, 33)]
        with requests.Session() as session:
            assert put_photo(session, camera, uploaded[0]) == 200
            assert ftp_store(camera, "snap_0002.jpg", uploaded[1]).startswith("226")
            assert put_photo(session, camera, uploaded[2]) == 200
        assert follower.finish() == 0, follower.stderr
    finally:
        follower.stop()
    saved = follower.saved()
    listed = user.wait_for_frames(camera.id, 3)
    assert sorted(saved.values()) == sorted(uploaded)
    assert {name.rsplit("-", 1)[1].removesuffix(".jpg") for name in saved} == {frame["id"] for frame in listed}
    for frame in listed:
        [name] = [name for name in saved if name.endswith(f"-{frame['id']}.jpg")]
        assert saved[name] == user.image(frame)
