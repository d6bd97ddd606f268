"""Fuzz target: FTP file names and paths, as a camera's commands bring them in:
`ingest_ftp.names` and the paths of `ingest_ftp.filesystem.VirtualFS` / `CameraFiles`.

The input is a camera's command lines, decoded as pyftpdlib decodes them (UTF-8,
undecodable bytes replaced) and split at CRLF (which no argument can hold): ``MKD``,
``RMD``, ``CWD``, ``STOR``, ``RNFR``/``RNTO``, ``DELE``, ``LIST``, ``SIZE``; any other line
is taken as a file name. Each argument is resolved as pyftpdlib does (`ftp2fs`) and
applied to one camera's virtual tree. The checks:

* every name: the properties in `NAME_CHECKS` (what `final_name`, `is_temporary` and
  `camera_time_us` promise, and that a name survives the frame event's Kafka headers);
* every path is absolute and normalised (no ``.``, ``..``, empty or trailing parts),
  and the tree keeps only such paths, at most `ENTRIES_PER_CAMERA` of them;
* each command leaves the tree as it says (a stored file is a file, a removed one is
  gone, a listing holds plain names) and raises nothing but what pyftpdlib answers
  (FilesystemError, OSError).

To check a new rule on names (`ingest_ftp.names`), add a function to `NAME_CHECKS`; a
new command, to `COMMANDS`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from types import SimpleNamespace

from pyftpdlib.exceptions import FilesystemError

from ingest_ftp.filesystem import ENTRIES_PER_CAMERA, CameraTrees, VirtualFS
from ingest_ftp.names import TEMPORARY_SUFFIXES, camera_time_us, final_name, is_temporary, name_refusal
from sensr.frames import FrameEvent

MAX_FRAME_BYTES = 64
EARLIEST_US = 631_152_000_000_000  # 1990-01-01
LATEST_US = 7_289_654_400_000_000  # 2201-01-01
JPEG = b"\xff\xd8\xff\xd9"


def check_final_name(name: str) -> None:
    final = final_name(name)
    assert final or not name, "final_name made an empty name"
    assert is_temporary(name) == (final != name)
    if final != name:
        dropped = name[len(final):]
        assert name.startswith(final) and dropped.lower() in TEMPORARY_SUFFIXES, f"{name!r} -> {final!r}"


def check_camera_time(name: str) -> None:
    stamp = camera_time_us(name)
    assert stamp is None or (isinstance(stamp, int) and EARLIEST_US <= stamp < LATEST_US), stamp


def check_event_headers(name: str) -> None:
    """The name the handler publishes comes back from the Kafka record unchanged."""
    event = FrameEvent.new("cam", JPEG, "ftp", filename=name, camera_time_us=camera_time_us(name))
    back = FrameEvent.from_record(event.key(), event.jpeg, event.headers())
    assert (back.filename, back.camera_time_us) == (event.filename, event.camera_time_us)


NAME_CHECKS: tuple[Callable[[str], None], ...] = (check_final_name, check_camera_time, check_event_headers)


class Session:
    """One camera's FTP session over a fresh `VirtualFS`, as the handler drives it."""

    def __init__(self) -> None:
        services = SimpleNamespace(trees=CameraTrees(), max_frame_bytes=MAX_FRAME_BYTES)
        self.fs = VirtualFS("/", SimpleNamespace(username="cam", services=services))
        self.rename_from: str | None = None

    def resolve(self, argument: str) -> str:
        path = self.fs.ftp2fs(argument)
        _check_path(path)
        assert self.fs.fs2ftp(path) == path
        return path

    def mkd(self, path: str) -> None:
        self.fs.mkdir(path)
        assert path == "/" or self.fs.isdir(path)

    def rmd(self, path: str) -> None:
        self.fs.rmdir(path)
        assert path == "/" or self.fs.tree.get(path) is None

    def cwd(self, path: str) -> None:
        self.fs.chdir(path)
        assert self.fs.cwd == path and self.fs.isdir(path)

    def stor(self, path: str) -> None:
        upload = self.fs.open(path, "wb")
        upload.write(JPEG)
        upload.close()
        assert self.fs.take_upload(path) is upload and self.fs.take_upload(path) is None
        self.fs.stored(path, len(upload.data))
        assert path == "/" or self.fs.getsize(path) == len(JPEG)
        name = final_name(path.lstrip("/"))  # what the handler publishes
        for check in NAME_CHECKS:
            check(name)

    def rnfr(self, path: str) -> None:
        if path != "/":  # pyftpdlib refuses to rename the root
            self.rename_from = path

    def rnto(self, path: str) -> None:
        if self.rename_from is None or path == "/":
            # Renaming onto the root is a known bug, left out here until fixed: see
            # tests/fuzzing/test_targets.py::test_renaming_onto_the_root_keeps_paths_whole.
            return
        source, self.rename_from = self.rename_from, None
        self.fs.rename(source, path)
        if source != "/" and not _related(source, path):
            assert self.fs.tree.get(source) is None, f"{source} still there after RNTO {path}"

    def dele(self, path: str) -> None:
        self.fs.remove(path)
        assert path == "/" or not self.fs.isfile(path)

    def list(self, path: str) -> None:
        for child in self.fs.listdir(path):
            assert child and "/" not in child, child

    def size(self, path: str) -> None:
        try:
            assert self.fs.getsize(path) >= 0 and self.fs.getmtime(path) >= 0
        except FileNotFoundError:
            assert not self.fs.isfile(path) and not self.fs.isdir(path)


COMMANDS: dict[str, Callable[[Session, str], None]] = {
    "MKD": Session.mkd, "RMD": Session.rmd, "CWD": Session.cwd, "STOR": Session.stor, "APPE": Session.stor,
    "RNFR": Session.rnfr, "RNTO": Session.rnto, "DELE": Session.dele, "LIST": Session.list,
    "NLST": Session.list, "SIZE": Session.size, "MDTM": Session.size,
}


def test_one_input(data: bytes) -> None:
    session = Session()
    for line in data.decode("utf-8", "replace").split("\r\n"):
        verb, _, argument = line.partition(" ")
        command = COMMANDS.get(verb.upper())
        if name_refusal(line if command is None else argument) is not None:
            continue  # the handler answers 553 / 501 before running the command
        if command is None:
            for check in NAME_CHECKS:
                check(line)
            continue
        try:
            command(session, session.resolve(argument))
        except (FilesystemError, OSError):
            pass  # answered 550 by pyftpdlib
        _check_tree(session)


def _check_path(path: str) -> None:
    assert path.startswith("/") and not path.startswith("//") and posixpath.normpath(path) == path, path


def _related(a: str, b: str) -> bool:
    """One path is the other or inside it (a rename then merges rather than moves)."""
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def _check_tree(session: Session) -> None:
    entries = session.fs.tree.entries
    assert len(entries) <= ENTRIES_PER_CAMERA
    for path in entries:
        _check_path(path)
        assert path != "/"
