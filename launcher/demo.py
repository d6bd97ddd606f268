"""`sensr demo` and `sensr run --demo`: a first user and camera on a running Sensr, made
through the JSON API, and upload commands for it that work as pasted."""

from __future__ import annotations

import base64
import json
import secrets
import shlex
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sensr.settings import Settings

DEMO_EMAIL = "demo@sensr.example"
DEMO_CAMERA = "Demo camera"


class DemoError(RuntimeError):
    """The demo user or camera could not be made; the message says why."""


@dataclass(frozen=True)
class DemoLogin:
    email: str = DEMO_EMAIL
    password: str | None = None
    """None: the one saved in the data folder by an earlier demo, else a new random one."""


def _demo_password(data_dir: Path, login: DemoLogin) -> str:
    """The given password, else the one an earlier demo saved (so the demo finds its user
    again), else a new random one, saved (readable by this user only)."""
    if login.password:
        return login.password
    saved = data_dir / "demo" / "login.json"
    if saved.exists():
        stored = json.loads(saved.read_text())
        if stored.get("email") == login.email:
            return str(stored["password"])
    password = secrets.token_urlsafe(12)
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.touch(mode=0o600)
    saved.write_text(json.dumps({"email": login.email, "password": password}))
    return password


def _api(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    """One JSON request to the api: (status, JSON body)."""
    request = urllib.request.Request(f"{base}/api/v1{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except ValueError:
            return error.code, {}
    except (urllib.error.URLError, OSError) as error:
        raise DemoError(f"the api at {base} does not answer ({error}); start Sensr first: `sensr run`") from None


def _demo_photo(data_dir: Path) -> Path:
    """A sample JPEG to upload, made once in the data folder."""
    path = data_dir / "demo" / "photo.jpg"
    if not path.exists():
        from PIL import Image, ImageDraw
        image = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
        draw = ImageDraw.Draw(image)
        draw.rectangle((40, 200, 600, 280), fill=(20, 60, 120))
        draw.text((60, 230), "Sensr demo photo", fill=(255, 255, 255))
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, "JPEG", quality=85)
    return path


def demo(settings: Settings, login: DemoLogin) -> str:
    """Create (or find again) the demo user and its camera through the api, and return
    ready-to-paste upload commands for it."""
    api = settings.api
    base = f"http://{api.api_host}:{api.api_port}"
    data_dir = Path(settings.core.data_dir).resolve()
    password = _demo_password(data_dir, login)
    status, answer = _api(base, "POST", "/users", {"email": login.email, "password": password})
    if status not in (201, 409):
        raise DemoError(f"signing up {login.email} failed ({status}): {answer.get('message', answer)}")
    status, answer = _api(base, "POST", "/tokens", {"email": login.email, "password": password})
    if status != 201:
        raise DemoError(f"logging in as {login.email} failed ({status}): {answer.get('message', answer)} "
                        "(an account of that name exists with another password? pass --email/--password)")
    token = answer["token"]
    status, answer = _api(base, "GET", "/cameras", token=token)
    if status != 200:
        raise DemoError(f"listing cameras failed ({status}): {answer.get('message', answer)}")
    camera = next((c for c in answer["cameras"] if c["name"] == DEMO_CAMERA), None)
    if camera is None:
        status, camera = _api(base, "POST", "/cameras", {"name": DEMO_CAMERA}, token=token)
        if status != 201:
            raise DemoError(f"creating the demo camera failed ({status}): {camera.get('message', camera)}")
    _wait_until_login_accepted(camera)
    return demo_commands(base, login.email, password, camera, _demo_photo(data_dir))


def _wait_until_login_accepted(camera: dict, timeout: float = 15.0) -> None:
    """Until ingest_http takes the camera's login (the edges learn new cameras from Kafka,
    a moment after the api created it), so the printed commands work when pasted at once.
    Asks without uploading: a PUT announcing `Expect: 100-continue` is answered
    `100 Continue` once the login is accepted, and the connection is then dropped."""
    url = urlsplit(camera["upload_urls"]["photo"])
    token = base64.b64encode(f"{camera['username']}:{camera['password']}".encode()).decode()
    request = (f"PUT {url.path} HTTP/1.1\r\nHost: {url.hostname}\r\nAuthorization: Basic {token}\r\n"
               "Content-Type: image/jpeg\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n").encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((url.hostname, url.port or 80), timeout=5) as sock:
                sock.sendall(request)
                if sock.recv(64).startswith(b"HTTP/1.1 100"):
                    return
        except OSError:
            pass
        time.sleep(0.3)


def demo_commands(base: str, email: str, password: str, camera: dict, photo: Path) -> str:
    """The text `sensr demo` prints: where to log in, the camera's login, commands to paste."""
    host, user, secret = camera["host"], camera["username"], camera["password"]
    photo_url, mjpeg_url, ftp_url = (camera["upload_urls"][k] for k in ("photo", "mjpeg", "ftp"))
    ftp_port = urlsplit(ftp_url).port or 21
    image = shlex.quote(str(photo))
    return "\n".join([
        "",
        f"Web UI      {base}/  (log in as {email} / {password})",
        f"Camera      \"{camera['name']}\": {base}/cameras/{camera['id']}",
        f"  HOST      {host}",
        f"  USERNAME  {user}",
        f"  PASSWORD  {secret}",
        "",
        "Upload a photo over HTTP (curl, or wget):",
        f"  curl -T {image} -H \"Content-Type: image/jpeg\" {photo_url}",
        f"  wget -O - --auth-no-challenge --post-file={image} --header=\"Content-Type: image/jpeg\" {photo_url}",
        "Stream MJPEG (a test pattern at 2 frames/s; Ctrl-C ends it):",
        f"  ffmpeg -re -f lavfi -i testsrc=size=640x480:rate=2 -f mpjpeg {mjpeg_url}",
        "Upload over FTP (passive mode):",
        f"  curl -T {image} {ftp_url}",
        f"  lftp -u {user},{secret} -p {ftp_port} -e \"put {image}; bye\" {host}",
        "  (the same photo sent again within SENSR_REUPLOAD_WINDOW, 10 minutes by default, by any of",
        "  these ways, is acknowledged but stored once)",
        "Then watch it arrive:",
        f"  {base}/cameras/{camera['id']}/live",
        "",
    ])
