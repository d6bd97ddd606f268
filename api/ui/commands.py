"""What the "new camera" and "upload login" pages show: the seed's HOST, USERNAME and
PASSWORD, the FTP settings a netcam's menu asks for, and upload commands to copy and
paste (curl, wget, ffmpeg), built like the seed's examples from the camera's login.

Every variable part of a command is shell-quoted, so a pasted command does what it says
whatever the host name or password holds.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from api.cameras import UploadLogin
from sensr.settings import Settings

EXAMPLE_FILE = "Rocketship.jpg"  # the seed's example image
SAMPLE_PATH = "/static/" + EXAMPLE_FILE  # a JPEG of that name, served by the web UI
CURL_JPEG_HEADER = '-H "Content-Type: image/jpeg"'
WGET_JPEG_HEADER = '--header "Content-Type: image/jpeg"'  # wget's -H is --span-hosts


@dataclass(frozen=True, slots=True)
class Command:
    key: str
    title: str
    text: str
    note: str


@dataclass(frozen=True, slots=True)
class UploadGuide:
    host: str
    username: str
    password: str
    http_port: int
    ftp_port: int
    photo_url: str
    mjpeg_url: str
    ftp_url: str
    commands: tuple[Command, ...]

    def command(self, key: str) -> Command:
        return next(command for command in self.commands if command.key == key)


def without_credentials(url: str) -> str:
    """`url` without its `user:password@` part."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc))


def upload_guide(login: UploadLogin, settings: Settings, base_url: str = "") -> UploadGuide:
    """The page's values and commands. `base_url` is the web UI's public address, for the
    command that fetches the sample JPEG the other commands upload."""
    q = shlex.quote
    photo_plain = without_credentials(login.photo_url)
    commands = (
        Command("sample", f"Get a sample JPEG named {EXAMPLE_FILE}",
                f"curl -o {EXAMPLE_FILE} {q(base_url + SAMPLE_PATH)}",
                "The commands below upload this file from the folder you run them in; use any JPEG of your "
                "own just as well."),
        Command("curl", "Upload one photo with curl",
                f"curl -T {EXAMPLE_FILE} {CURL_JPEG_HEADER} {q(login.photo_url)}",
                "curl puts the USERNAME and PASSWORD from the URL into a Basic Authorization header "
                "(-T sends a PUT request)."),
        Command("wget", "Upload one photo with wget",
                f"wget --auth-no-challenge --user={q(login.username)} --password={q(login.password)} "
                f"--post-file={EXAMPLE_FILE} {WGET_JPEG_HEADER} -O - {q(photo_plain)}",
                "--auth-no-challenge sends the Authorization header at once instead of waiting for the "
                "server's challenge."),
        Command("ffmpeg", "Stream a webcam as MJPEG with ffmpeg",
                f"ffmpeg -f v4l2 -framerate 5 -video_size 640x480 -i /dev/video0 -q:v 5 -f mpjpeg "
                f"{q(login.mjpeg_url)}",
                "Each JPEG of the stream becomes a frame as soon as it arrives. Stop with Ctrl-C."),
        Command("ffmpeg-test", "Stream a test pattern (no webcam needed)",
                f"ffmpeg -re -f lavfi -i testsrc2=size=640x480:rate=2 -q:v 5 -f mpjpeg {q(login.mjpeg_url)}",
                "Two frames a second of ffmpeg's test pattern, until Ctrl-C."),
        Command("curl-ftp", "Upload one photo by FTP with curl",
                f"curl -T {EXAMPLE_FILE} {q(login.ftp_url)}",
                "curl uses passive mode by default, as Sensr asks."),
    )
    return UploadGuide(host=login.host, username=login.username, password=login.password,
                       http_port=settings.http.http_port, ftp_port=settings.ftp.ftp_port,
                       photo_url=login.photo_url, mjpeg_url=login.mjpeg_url, ftp_url=login.ftp_url,
                       commands=commands)
