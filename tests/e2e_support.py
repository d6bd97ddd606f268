"""Support for the end-to-end tests and the end-to-end benchmark (no tests here).

`Stack` starts the four services (api, catalog_worker, ingest_http, ingest_ftp) as
separate `python -m ...` processes against a Kafka and an S3 endpoint, each stack with
its own free ports, data folder, SQLite index, bucket and catalog consumer group, and
waits for every service's `/readyz`. One service can be killed, stopped and started
again on the same ports. `ApiClient` is a small client of the JSON API: sign up, log in,
create a camera (its HOST/USERNAME/PASSWORD and upload ports), list frames, fetch image
bytes. `UploadLoop` is a camera that keeps uploading unique frames (photo, FTP or MJPEG)
through a fault, and `check_exactly_once` matches what the API lists against what was
acknowledged, frame by frame.
"""

from __future__ import annotations

import ftplib
import hashlib
import io
import json
import os
import random
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from infra.process import ManagedProcess, free_ports
from sensr.settings import S3Settings
from sensr.storage import ensure_bucket, make_s3_client
from tests.frames_tap import start_group_at_end
from tests.harness import eventually
from tests.jpegs import make_jpeg, mpjpeg_stream

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "an e2e password, long enough"
SERVICES = ("api", "catalog_worker", "ingest_http", "ingest_ftp")
"""Start order: the api first (it owns the camera logins), the edges last."""


def passive_port_range(width: int = 40) -> str:
    """A `low-high` range of ports that were all free a moment ago (best effort)."""
    for _ in range(200):
        low = random.randrange(20000, 60000 - width)
        socks: list[socket.socket] = []
        try:
            for port in range(low, low + width):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return f"{low}-{low + width - 1}"
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free passive port range found")


def _get_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@dataclass
class Stack:
    """The four services of one stack as child processes."""

    kafka_bootstrap: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    data_dir: Path
    overrides: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        api, http, ftp, ftp_ops, cat_ops = free_ports(5)
        env = {name: value for name, value in os.environ.items() if not name.startswith("SENSR_")}
        env.update({
            "SENSR_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "SENSR_S3_ENDPOINT": self.s3_endpoint,
            "SENSR_S3_ACCESS_KEY": self.s3_access_key,
            "SENSR_S3_SECRET_KEY": self.s3_secret_key,
            "SENSR_S3_BUCKET": f"e2e-{uuid.uuid4().hex[:12]}",
            "SENSR_DATA_DIR": str(self.data_dir),
            "SENSR_DATABASE_URL": f"sqlite:///{self.data_dir / 'index.sqlite'}",
            "SENSR_PUBLIC_HOST": "127.0.0.1",
            "SENSR_API_PORT": str(api),
            "SENSR_HTTP_PORT": str(http),
            "SENSR_FTP_PORT": str(ftp),
            "SENSR_FTP_OPS_PORT": str(ftp_ops),
            "SENSR_FTP_PASSIVE_PORTS": passive_port_range(),
            "SENSR_CATALOG_OPS_PORT": str(cat_ops),
            "SENSR_CATALOG_GROUP_ID": f"catalog-e2e-{uuid.uuid4().hex[:10]}",
            # A killed worker's partitions go to its successor after this, not 45 s.
            "SENSR_CATALOG_SESSION_TIMEOUT_MS": "6000",
            "SENSR_CATALOG_RETRY_MAX_SECONDS": "2",
            # Tests and the benchmark send from one address, far faster than a camera.
            "SENSR_AUTH_FAILURE_LIMIT": "100000",
            "SENSR_FTP_AUTH_FAILURE_LIMIT": "100000",
            "SENSR_FTP_MAX_CONNECTIONS_PER_IP": "500",
            "SENSR_FTP_MAX_CONNECTIONS_PER_CAMERA": "50",
            "SENSR_FTP_MAX_FRAMES_PER_SECOND": "10000",
            "SENSR_LOGIN_FAILURES_PER_ADDRESS": "100000",
            "SENSR_API_MAX_CONNECTIONS_PER_ADDRESS": "0",
            "SENSR_LOG_FORMAT": "json",
        })
        env.update(self.overrides)
        self.env = env

    # -- where things listen ---------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.env['SENSR_API_PORT']}"

    @property
    def http_port(self) -> int:
        return int(self.env["SENSR_HTTP_PORT"])

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ftp_port(self) -> int:
        return int(self.env["SENSR_FTP_PORT"])

    @property
    def bucket(self) -> str:
        return self.env["SENSR_S3_BUCKET"]

    def ops_url(self, service: str) -> str:
        """The base URL of `service`'s /healthz, /readyz and /metrics."""
        return {
            "api": self.api_url,
            "ingest_http": self.ingest_url,
            "ingest_ftp": f"http://127.0.0.1:{self.env['SENSR_FTP_OPS_PORT']}",
            "catalog_worker": f"http://127.0.0.1:{self.env['SENSR_CATALOG_OPS_PORT']}",
        }[service]

    def healthy(self, service: str) -> bool:
        return _get_ok(f"{self.ops_url(service)}/healthz")

    def ready(self, service: str) -> bool:
        return _get_ok(f"{self.ops_url(service)}/readyz")

    def pid(self, service: str) -> int | None:
        process = self.processes.get(service)
        return process.pid if process else None

    def running(self, service: str) -> bool:
        process = self.processes.get(service)
        return bool(process and process.running())

    def log(self, service: str) -> str:
        path = self.data_dir / "logs" / f"{service}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- starting and stopping ---------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> Stack:
        """Make the bucket (as `sensr run` does), put the catalog group at the end of
        `sensr.frames`, then start every service in order, each ready before the next."""
        ensure_bucket(make_s3_client(S3Settings(s3_endpoint=self.s3_endpoint, s3_access_key=self.s3_access_key,
                                                s3_secret_key=self.s3_secret_key)), self.bucket)
        start_group_at_end(self.kafka_bootstrap, self.env["SENSR_CATALOG_GROUP_ID"])
        try:
            for service in SERVICES:
                self.start_service(service, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_service(self, service: str, timeout: float = 120.0, wait: bool = True) -> None:
        assert not self.running(service), f"{service} runs already"
        process = ManagedProcess(service, [sys.executable, "-m", service],
                                 self.data_dir / "logs" / f"{service}.log", env=self.env, cwd=REPO)
        process.start()
        self.processes[service] = process
        if wait:
            self.wait_ready(service, timeout)

    def wait_ready(self, service: str, timeout: float = 120.0) -> None:
        self.processes[service].wait_ready(lambda: self.ready(service), timeout)

    def stop_service(self, service: str) -> None:
        """SIGTERM (then SIGKILL after 20 s): a clean stop."""
        process = self.processes.get(service)
        if process is not None:
            process.stop()

    def kill_service(self, service: str) -> None:
        """SIGKILL at once: a crash."""
        process = self.processes.get(service)
        if process is not None:
            process.kill()

    def restart_service(self, service: str, kill: bool = False, timeout: float = 120.0) -> None:
        (self.kill_service if kill else self.stop_service)(service)
        self.start_service(service, timeout)

    def stop(self) -> None:
        """Edges first (no new frames), then the worker, then the api."""
        for service in reversed(SERVICES):
            self.stop_service(service)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# -- the JSON API ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CameraLogin:
    """A camera as its owner sees it: id, and the upload login with its endpoints."""

    id: str
    host: str
    username: str
    password: str
    http_port: int
    ftp_port: int
    photo_url: str
    mjpeg_url: str

    @property
    def auth(self) -> tuple[str, str]:
        return self.username, self.password

    def ftp(self, timeout: float = 20.0) -> ftplib.FTP:
        """A logged-in, passive ftplib session."""
        ftp = ftplib.FTP()
        ftp.connect(self.host, self.ftp_port, timeout=timeout)
        ftp.login(self.username, self.password)
        ftp.set_pasv(True)
        return ftp


class ApiClient:
    """A user of the JSON API, logged in with a bearer token."""

    def __init__(self, api_url: str, email: str | None = None, password: str = PASSWORD,
                 sign_up: bool = True) -> None:
        self.api_url = api_url.rstrip("/")
        self.email = email or f"e2e-{uuid.uuid4().hex[:10]}@example.com"
        self.password = password
        self.session = requests.Session()
        if sign_up:
            created = self.session.post(self.url("/users"), json={"email": self.email, "password": password},
                                        timeout=30)
            assert created.status_code == 201, created.text
        self.log_in()

    def url(self, path: str) -> str:
        return f"{self.api_url}/api/v1{path}"

    def log_in(self) -> str:
        response = self.session.post(self.url("/tokens"), json={"email": self.email, "password": self.password},
                                     timeout=30)
        assert response.status_code == 201, response.text
        token = response.json()["token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        return token

    def get(self, path: str, **params: Any) -> Any:
        response = self.session.get(self.url(path), params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def create_camera(self, name: str = "Front door", **fields: Any) -> CameraLogin:
        response = self.session.post(self.url("/cameras"), json={"name": name, **fields}, timeout=30)
        assert response.status_code == 201, response.text
        return camera_login(response.json())

    def cameras(self) -> list[CameraLogin]:
        return [camera_login(body) for body in self.get("/cameras")["cameras"]]

    def frames(self, camera_id: str) -> list[dict[str, Any]]:
        """Every frame of the camera, oldest first (all pages)."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = self.get(f"/cameras/{camera_id}/frames", **params)
            found += page["frames"]
            cursor = page["next_cursor"]
            if not cursor:
                return found

    def frame_count(self, camera_id: str) -> int:
        return len(self.frames(camera_id))

    def latest(self, camera_id: str) -> dict[str, Any] | None:
        response = self.session.get(self.url(f"/cameras/{camera_id}/frames/latest"), timeout=30)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def image(self, frame: dict[str, Any]) -> bytes:
        """The original JPEG bytes of a listed frame."""
        response = self.session.get(f"{self.api_url}{frame['image_url']}", timeout=30)
        response.raise_for_status()
        assert response.headers["Content-Type"] == "image/jpeg"
        return response.content

    def wait_for_frames(self, camera_id: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The camera's frames once at least `count` are listed (AssertionError after `timeout`)."""
        frames: list[dict[str, Any]] = []

        def enough() -> bool:
            nonlocal frames
            frames = self.frames(camera_id)
            return len(frames) >= count

        eventually(enough, timeout, 0.3, what=lambda: f"{count} frames listed (have {len(frames)})")
        return frames


def camera_login(body: dict[str, Any]) -> CameraLogin:
    photo, ftp = urlsplit(body["upload_urls"]["photo"]), urlsplit(body["upload_urls"]["ftp"])
    return CameraLogin(id=body["id"], host=body["host"], username=body["username"], password=body["password"],
                       http_port=photo.port or 80, ftp_port=ftp.port or 21, photo_url=body["upload_urls"]["photo"],
                       mjpeg_url=body["upload_urls"]["mjpeg"])


def wait_until_edges_know(camera: CameraLogin, timeout: float = 30.0) -> None:
    """Until both edges accept the camera's login (they learn new cameras from
    `sensr.cameras` a moment after the api created them): a photo that is not a JPEG
    gets 400 (login fine) instead of 401/404, and FTP logs in."""
    url = f"http://{camera.host}:{camera.http_port}/photo/{camera.username}"
    eventually(lambda: requests.put(url, data=b"not a jpeg", auth=camera.auth, timeout=10).status_code == 400,
               timeout, what="ingest_http knows the camera")

    def ftp_login() -> bool:
        try:
            camera.ftp(timeout=10).quit()
            return True
        except ftplib.error_perm:
            return False
    eventually(ftp_login, timeout, what="ingest_ftp knows the camera")


# -- uploads as a camera does them ------------------------------------------------------------

def put_photo(session: requests.Session, camera: CameraLogin, jpeg: bytes, timeout: float = 30.0) -> int:
    """One photo by HTTP PUT (as `curl -T` sends it); the status, or 0 when the
    connection failed (refused, reset, timed out)."""
    url = f"http://{camera.host}:{camera.http_port}/photo/{camera.username}"
    try:
        return session.put(url, data=jpeg, auth=camera.auth, headers={"Content-Type": "image/jpeg"},
                           timeout=timeout).status_code
    except requests.RequestException:
        return 0


def ftp_store(camera: CameraLogin, name: str, jpeg: bytes, ftp: ftplib.FTP | None = None) -> str:
    """STOR one file in a session (a new one when `ftp` is None); the final reply
    (e.g. "226 ..." ), or the error reply / exception text."""
    try:
        session = ftp or camera.ftp()
        try:
            return session.storbinary(f"STOR {name}", io.BytesIO(jpeg))
        finally:
            if ftp is None:
                session.close()
    except ftplib.Error as error:
        return str(error)
    except (OSError, EOFError) as error:
        return f"000 {type(error).__name__}: {error}"


# -- uploader loops for the fault tests ---------------------------------------------------------

def unique_jpeg(tag: str, n: int) -> bytes:
    """A small real JPEG no other call returns (its comment names it)."""
    return make_jpeg(64, 48, seed=n % 97, comment=f"sensr e2e {tag} {n}".encode())


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Attempt:
    """One upload: the frames it carried (their digests), what the server answered, and
    whether that answer acknowledges them (200 / 226)."""

    digests: list[str]
    outcome: str
    acked: bool
    at: float


class UploadLoop:
    """A camera that uploads unique frames one after another through one path until
    told to stop, and does what cameras do after a failure (an error answer, or none
    because the connection broke): reconnects if need be, pauses briefly and sends the
    same frame again (FTP: the same file name) until it is acknowledged. Once told to
    stop it still finishes the frame in hand (for at most `give_up` seconds), so every
    frame it sent ends acknowledged.

    path: "photo" (HTTP PUT over a keep-alive session), "ftp" (STOR after STOR on one
    passive session) or "mjpeg" (short MJPEG streams of `stream_frames` frames each; the
    200's JSON says how many were stored; a failed stream is not sent again, since its
    frames already published would be stored twice).
    """

    def __init__(self, camera: CameraLogin, path: str, tag: str, pause: float = 0.05, stream_frames: int = 4,
                 retry_pause: float = 0.25, give_up: float = 60.0) -> None:
        self.camera, self.path, self.tag = camera, path, tag
        self.pause, self.stream_frames, self.retry_pause, self.give_up = pause, stream_frames, retry_pause, give_up
        self.attempts: list[Attempt] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._n = 0
        self._thread = threading.Thread(target=self._run, name=f"upload-{path}-{tag}", daemon=True)

    # -- control --
    def start(self) -> UploadLoop:
        self._thread.start()
        return self

    def stop(self, timeout: float = 90.0) -> None:
        self.stopping.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"{self._thread.name} did not stop (a hung upload?)"
        if self.error is not None:
            raise self.error

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def acked_count(self, since: float = 0.0) -> int:
        return sum(len(a.digests) for a in list(self.attempts) if a.acked and a.at >= since)

    def failed_count(self, since: float = 0.0) -> int:
        return sum(1 for a in list(self.attempts) if not a.acked and a.at >= since)

    def outcomes(self) -> dict[str, int]:
        return dict(Counter(a.outcome for a in list(self.attempts)))

    # -- the loop --
    def _next(self) -> bytes:
        self._n += 1
        return unique_jpeg(f"{self.tag}-{self.path}", self._n)

    def _frames(self):  # type: ignore[no-untyped-def]
        """The frame to send next: a new one after an acknowledgement, else the same
        again; None when it is time to stop."""
        frame, stopped_at = None, None
        while True:
            if frame is None or self.attempts[-1].acked:
                if self.stopping.is_set():
                    return
                frame = self._next()
            elif self.stopping.is_set():
                stopped_at = stopped_at or time.monotonic()
                if time.monotonic() - stopped_at > self.give_up:
                    return
            yield frame

    def _run(self) -> None:
        try:
            {"photo": self._photo, "ftp": self._ftp, "mjpeg": self._mjpeg}[self.path]()
        except BaseException as error:  # reported by stop()
            self.error = error

    def _record(self, frames: list[bytes], outcome: str, acked: bool) -> None:
        self.attempts.append(Attempt([digest(f) for f in frames], outcome, acked, time.monotonic()))
        time.sleep(self.pause if acked else self.retry_pause)

    def _photo(self) -> None:
        session = requests.Session()
        for jpeg in self._frames():
            status = put_photo(session, self.camera, jpeg, timeout=30)
            if status == 0:
                session.close()
                session = requests.Session()  # reconnect
            self._record([jpeg], str(status), status == 200)
        session.close()

    def _ftp(self) -> None:
        session: ftplib.FTP | None = None
        for jpeg in self._frames():
            if session is None:
                try:
                    session = self.camera.ftp(timeout=30)
                except (ftplib.Error, OSError, EOFError) as error:
                    self._record([jpeg], f"login: {str(error)[:40]}", False)
                    continue
            reply = ftp_store(self.camera, f"img{self._n:05d}.jpg", jpeg, session)
            if not reply.startswith(("2", "4", "5")) or reply.startswith("421"):
                session.close()
                session = None  # the connection is gone: reconnect next time
            self._record([jpeg], reply[:3], reply.startswith("226"))
        if session is not None:
            try:
                session.quit()
            except (ftplib.Error, OSError, EOFError):
                session.close()

    def _mjpeg(self) -> None:
        session = requests.Session()
        url = f"http://{self.camera.host}:{self.camera.http_port}/upload/{self.camera.username}"
        while not self.stopping.is_set():
            frames = [self._next() for _ in range(self.stream_frames)]
            body = mpjpeg_stream(frames)
            chunks = iter([body[i:i + 4096] for i in range(0, len(body), 4096)])  # chunked, as ffmpeg sends
            try:
                response = session.post(url, data=chunks, auth=self.camera.auth, timeout=30,
                                        headers={"Content-Type": "multipart/x-mixed-replace;boundary=ffmpeg"})
                status, stored = response.status_code, (json.loads(response.content).get("frames", -1)
                                                        if response.status_code == 200 else 0)
            except requests.RequestException:
                session.close()
                session = requests.Session()
                status, stored = 0, 0
            ok = status == 200 and stored == len(frames)
            assert status != 200 or ok, f"a 200 for {stored} of {len(frames)} frames"
            self._record(frames, str(status), ok)
        session.close()


@dataclass(frozen=True)
class Tally:
    """What became of a fault test's uploads."""

    acked: int
    """Distinct frames answered 200 / 226 (at the first try or after retries)."""
    listed: int
    """Frames the API lists for the camera."""
    refused_but_stored: list[tuple[str, str]]
    """(path, answer) of uploads refused with an error whose frame was stored anyway."""


def check_exactly_once(user: ApiClient, camera: CameraLogin, loops: list[UploadLoop],
                       timeout: float = 90.0, quiet: float = 2.0) -> Tally:
    """Every acknowledged frame is listed once, with its bytes; nothing is listed twice
    (a frame sent again after a failure included); nothing is listed that was never
    sent. Returns the tally, with the frames stored although never acknowledged."""
    acked = {d for loop in loops for a in loop.attempts if a.acked for d in a.digests}
    sent = {d for loop in loops for a in loop.attempts for d in a.digests}
    user.wait_for_frames(camera.id, len(acked), timeout=timeout)
    time.sleep(quiet)  # anything extra would turn up now
    frames = user.frames(camera.id)
    stored = Counter(digest(user.image(frame)) for frame in frames)
    duplicates = {d: n for d, n in stored.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} frame(s) stored more than once"
    lost = acked - set(stored)
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged frame(s) not listed"
    strangers = set(stored) - sent
    assert not strangers, f"{len(strangers)} listed frame(s) were never uploaded"
    extra = set(stored) - acked
    late = [(loop.path, a.outcome) for loop in loops for a in loop.attempts if set(a.digests) & extra]
    return Tally(acked=len(acked), listed=len(frames), refused_but_stored=late)
