"""A user of Sensr's JSON API, as the tests and the benchmarks drive it: sign up, log in
with a bearer token, create cameras (each with its HOST/USERNAME/PASSWORD and upload
endpoints), list frames page by page, fetch image bytes."""

from __future__ import annotations

import ftplib
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from workload.waiting import eventually

PASSWORD = "an e2e password, long enough"


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
