"""Support for the end-to-end tests (no tests here): cameras that upload through a fault.

The stack itself is `launcher.service_stack.ServiceStack`; the user of the JSON API is
`workload.api_client.ApiClient`. `UploadLoop` is a camera that keeps uploading unique
frames (photo, FTP or MJPEG) through a fault, and `check_exactly_once` matches what the
API lists against what was acknowledged, frame by frame.
"""

from __future__ import annotations

import ftplib
import hashlib
import io
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass

import requests

from launcher.service_stack import ServiceStack
from tests.support.jpegs import make_jpeg, mpjpeg_stream
from workload.api_client import ApiClient, CameraLogin
from workload.waiting import eventually


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


def new_camera(stack: ServiceStack) -> tuple[ApiClient, CameraLogin]:
    user = ApiClient(stack.api_url)
    camera = user.create_camera("fault camera")
    wait_until_edges_know(camera)
    return user, camera



def start_loops(camera: CameraLogin, tag: str, *paths: str, **options: object) -> list[UploadLoop]:
    return [UploadLoop(camera, path, f"{tag}{n}", **options).start()  # type: ignore[arg-type]
            for n, path in enumerate(paths)]



def wait_acked(loops: list[UploadLoop], count: int, since: float = 0.0, timeout: float = 60.0) -> None:
    """Until every loop has `count` more acknowledged frames since `since`."""
    def enough() -> bool:
        for loop in loops:
            if loop.done and loop.error is not None:
                raise loop.error
        return all(loop.acked_count(since) >= count for loop in loops)
    eventually(enough, timeout, 0.1,
               what=lambda: f"{count} acknowledged per loop since {since:.1f} "
                            f"({[(loop.path, loop.outcomes()) for loop in loops]})")



def stop_loops(loops: list[UploadLoop]) -> None:
    for loop in loops:
        loop.stopping.set()
    for loop in loops:
        loop.stop()



def all_alive(stack: ServiceStack) -> None:
    for service in stack.services:
        assert stack.running(service), f"{service} died:\n{stack.log(service)[-3000:]}"
        eventually(lambda: stack.ready(service), 60, what=f"{service} ready again")

