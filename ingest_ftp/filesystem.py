"""A virtual file system: each camera sees its own root `/`, and nothing touches the disk.

`STOR` writes into an `Upload` held in memory (at most the frame size limit); when the
transfer completes, the handler takes it from the file system, checks and publishes it.
What remains is a little bookkeeping per camera (`CameraFiles`): the folders it made and
the names and sizes of the files it stored lately, so that the commands cameras send
around an upload (`MKD`, `CWD`, `SIZE`, `MDTM`, `LIST`, `RNFR`/`RNTO`, `DELE`) behave as
on a real server, also across reconnects. Removing or renaming never fails for lack of
a file: there is nothing to lose, and firmware that sees an error there often stops.
"""

from __future__ import annotations

import errno
import stat
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pyftpdlib.exceptions import FilesystemError
from pyftpdlib.filesystems import AbstractedFS

from ingest_ftp import metrics
from ingest_ftp.names import final_name
from sensr.logs import get_logger

log = get_logger(__name__)

ENTRIES_PER_CAMERA = 100
"""Files and folders remembered per camera; the oldest are forgotten first."""


class Upload:
    """The bytes of a file being stored, in memory, never more than `limit`.

    `failure` says why the upload was given up: "too_large" (set here, once the data would
    pass the limit; the rest is dropped and the data channel closes), "connection_lost"
    (set by the data channel); None for a complete or plainly aborted upload.
    """

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.data = bytearray()
        self.closed = False
        self.failure: str | None = None

    def write(self, chunk: bytes) -> int:
        # Not an OSError: pyftpdlib 2.2 turns a write error into a TypeError of its own.
        if self.failure is None and len(self.data) + len(chunk) > self.limit:
            self.failure = "too_large"
            self.data = bytearray()
        if self.failure is None:
            self.data += chunk
        metrics.UPLOAD_BYTES.inc(len(chunk))
        return len(chunk)

    def close(self) -> None:
        self.closed = True


@dataclass(slots=True)
class Entry:
    """A remembered file (`size` >= 0) or folder (`size` is None)."""

    size: int | None
    mtime: float

    @property
    def is_dir(self) -> bool:
        return self.size is None


class CameraFiles:
    """One camera's virtual tree: absolute paths to entries, oldest first, bounded."""

    def __init__(self, limit: int = ENTRIES_PER_CAMERA) -> None:
        self.limit = limit
        self.entries: OrderedDict[str, Entry] = OrderedDict()

    def put(self, path: str, size: int | None) -> None:
        if path == "/":
            return
        self.entries[path] = Entry(size, time.time())
        self.entries.move_to_end(path)
        while len(self.entries) > self.limit:
            self.entries.popitem(last=False)

    def get(self, path: str) -> Entry | None:
        if path == "/":
            return Entry(None, 0.0)
        entry = self.entries.get(path)
        if entry is None and any(other.startswith(path + "/") for other in self.entries):
            return Entry(None, 0.0)  # a folder implied by a file stored inside it
        return entry

    def children(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        names = {path[len(prefix):].split("/", 1)[0] for path in self.entries if path.startswith(prefix)}
        return sorted(names)

    def move(self, src: str, dst: str) -> None:
        for path in [p for p in self.entries if p == src or p.startswith(src + "/")]:
            entry = self.entries.pop(path)
            self.entries[dst + path[len(src):]] = entry

    def drop(self, path: str) -> None:
        for other in [p for p in self.entries if p == path or p.startswith(path + "/")]:
            del self.entries[other]


class CameraTrees:
    """Every camera's `CameraFiles`, shared by its sessions (IOLoop thread only)."""

    def __init__(self) -> None:
        self._trees: dict[str, CameraFiles] = {}

    def of(self, camera: str) -> CameraFiles:
        tree = self._trees.get(camera)
        if tree is None:
            tree = self._trees[camera] = CameraFiles()
        return tree


class VirtualFS(AbstractedFS):
    """pyftpdlib's file-system interface over a camera's `CameraFiles`.

    Paths given to these methods are virtual absolute paths (`ftp2fs` with root `/`), so
    the "real" and the FTP view are the same strings. The handler provides
    `services.trees` (the CameraTrees) and `services.max_frame_bytes`.
    """

    def __init__(self, root: str, cmd_channel: Any) -> None:
        super().__init__("/", cmd_channel)
        self.camera: str = cmd_channel.username
        self.tree = cmd_channel.services.trees.of(self.camera)
        self._limit: int = cmd_channel.services.max_frame_bytes
        self._receiving: Upload | None = None

    # -- uploads ---------------------------------------------------------------------

    def open(self, filename: str, mode: str) -> Upload:
        if mode in ("wb", "ab"):
            # APPE cannot extend a frame that was already published: its data is taken as
            # a file of its own, like STOR.
            self._receiving = Upload(filename, self._limit)
            return self._receiving
        if mode == "r+b":
            raise FilesystemError("Resuming an upload (REST) is not supported; send the whole file")
        raise FilesystemError("Files cannot be downloaded from this server")

    def mkstemp(self, suffix: str = "", prefix: str = "", dir: str | None = None, mode: str = "wb") -> Upload:
        raise FilesystemError("STOU is not supported; use STOR with a file name")

    def take_upload(self, filename: str) -> Upload | None:
        """The finished upload stored as `filename`, handed over once (None if unknown)."""
        upload, self._receiving = self._receiving, None
        return upload if upload is not None and upload.name == filename else None

    def stored(self, filename: str, size: int) -> None:
        """Remember a file the camera stored (for SIZE, MDTM, LIST, RNFR)."""
        self.tree.put(filename, size)

    # -- paths -----------------------------------------------------------------------

    def validpath(self, path: str) -> bool:
        return True  # ftpnorm() already resolved "..": every virtual path is inside `/`

    def realpath(self, path: str) -> str:
        return path

    def chdir(self, path: str) -> None:
        self.tree.put(path, None)  # CWD into a folder that was never made: accepted, virtual
        self.cwd = path

    def mkdir(self, path: str) -> None:
        self.tree.put(path, None)

    def rmdir(self, path: str) -> None:
        self.tree.drop(path)

    def remove(self, path: str) -> None:
        self.tree.drop(path)

    def rename(self, src: str, dst: str) -> None:
        if dst == "/":  # pyftpdlib lets `RNTO /` through; the root is never a new name
            raise OSError(errno.EEXIST, "Cannot rename onto the root folder", dst)
        entry = self.tree.get(src)
        if entry is not None and not entry.is_dir and final_name(src) not in (src, dst):
            # The frame went out under the name its temporary name promised.
            log.warning("renamed_after_publishing", camera=self.camera, published_as=final_name(src), renamed_to=dst)
        self.tree.move(src, dst)

    def listdir(self, path: str) -> list[str]:
        return self.tree.children(path)

    # -- attributes ------------------------------------------------------------------

    def stat(self, path: str) -> Any:
        entry = self.tree.get(path)
        if entry is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        mode = (stat.S_IFDIR | 0o755) if entry.is_dir else (stat.S_IFREG | 0o644)
        return _StatResult(mode, entry.size or 0, entry.mtime)

    lstat = stat

    def lexists(self, path: str) -> bool:
        return True  # pyftpdlib asks only before RNFR: renaming a file we forgot succeeds too

    def isfile(self, path: str) -> bool:
        entry = self.tree.get(path)
        return entry is not None and not entry.is_dir

    def isdir(self, path: str) -> bool:
        entry = self.tree.get(path)
        return entry is not None and entry.is_dir

    def islink(self, path: str) -> bool:
        return False

    def getsize(self, path: str) -> int:
        return self.stat(path).st_size

    def getmtime(self, path: str) -> float:
        return self.stat(path).st_mtime

    def get_user_by_uid(self, uid: int) -> str:
        return self.camera

    def get_group_by_gid(self, gid: int) -> str:
        return "sensr"


@dataclass(frozen=True, slots=True)
class _StatResult:
    """The fields of `os.stat_result` that pyftpdlib's listings read."""

    st_mode: int
    st_size: int
    st_mtime: float
    st_nlink: int = 1
    st_uid: int = 0
    st_gid: int = 0
    st_ino: int = 0
    st_dev: int = 0

    @property
    def st_ctime(self) -> float:
        return self.st_mtime
