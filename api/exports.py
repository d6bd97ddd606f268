"""Downloads: one frame as a file, and a camera's frames over a time range as one zip.

The zip is streamed as it is built: no temporary file, and no frame is ever whole in
memory (each is copied from the bucket in pieces of at most SEND_BYTES). The library
is zipstream-ng: it writes entries as they are iterated and, for entries of known size
stored uncompressed, computes the archive's exact length before the first byte, so the
response has a `Content-Length` and the browser shows the download's progress. JPEGs
are compressed already, so storing them (ZIP_STORED) costs almost nothing in size.
Zip64 records are written where an archive passes 4 GiB or 65,535 entries.

Memory: what a zip cannot avoid is the central directory at its end (a record per
entry, written after every entry), so the export keeps about half a kilobyte per frame
(zipstream-ng's queued entry and central-directory record), never frame bytes; a
100,000-frame zip holds about 50 MB whatever the frames weigh. `SENSR_ZIP_MAX_FRAMES`
bounds it.

The archive is built in the worker pool (index pages, then lazy entries), and its bytes
are produced there too (`Services.run`), half a megabyte at a time, the next while the
event loop sends the previous; Tornado's `flush()` is awaited after each, so a slow
client holds at most two.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

from tornado.iostream import StreamClosedError
from zipstream import ZipStream

from api.errors import ApiError, InvalidInput
from api.handlers import JsonHandler
from api.images import ObjectReader
from api.times import parse_instant
from api.zones import zone
from sensr.index import FrameIndex, FrameRecord
from sensr.logs import get_logger

log = get_logger(__name__)
INDEX_PAGE_FRAMES = 1000
MAX_RANGE_US = 366 * 86_400_000_000
SEND_BYTES = 512 * 1024  # per hand-over from the pool to the event loop; two are held at most
_UNSAFE = re.compile(r"[^\w.-]+")


def stamp(timestamp_us: int) -> str:
    """`2026-12-05T10-30-00.123456Z`: an instant as part of a file name (no colons, which
    Windows refuses)."""
    when = datetime.fromtimestamp(timestamp_us // 1_000_000, tz=UTC)
    return when.strftime("%Y-%m-%dT%H-%M-%S") + f".{timestamp_us % 1_000_000:06d}Z"


def file_stem(camera_name: str) -> str:
    """The camera's name as the start of a file name: letters, digits, `.`, `-`, `_`."""
    return _UNSAFE.sub("-", unicodedata.normalize("NFC", camera_name)).strip("-.") or "camera"


def frame_file_name(camera_name: str, frame: FrameRecord) -> str:
    """`Front-door_2026-12-05T10-30-00.123456Z.jpg`."""
    return f"{file_stem(camera_name)}_{stamp(frame.timestamp_us)}.jpg"


def attachment(file_name: str) -> str:
    """A `Content-Disposition` value saving the body as `file_name` (RFC 6266: an ASCII
    `filename` for old clients, the exact UTF-8 name as `filename*`)."""
    fallback = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode().replace('"', "")
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(file_name, safe='')}"


class _StoredFrame:
    """An entry's bytes, read through the frame reader only when the zip reaches it."""

    __slots__ = ("_frame", "_objects")

    def __init__(self, objects: ObjectReader, frame: FrameRecord) -> None:
        self._objects = objects
        self._frame = frame

    def __iter__(self) -> Iterator[bytes]:
        yield self._objects.frame_now(self._frame)


def _take(pieces: Iterator[bytes]) -> bytes:
    """The archive's next pieces, joined up to about SEND_BYTES (b"" at its end): fewer
    hops between the pool and the event loop than one per 64 KiB piece."""
    taken: list[bytes] = []
    size = 0
    while size < SEND_BYTES and (piece := next(pieces, None)) is not None:
        taken.append(piece)
        size += len(piece)
    return b"".join(taken)


def frame_archive(index: FrameIndex, objects: ObjectReader, camera: str, since_us: int, until_us: int,
                  max_frames: int) -> ZipStream:
    """The zip of `camera`'s frames in [since_us, until_us), in time order, named by
    their timestamps (UTC); frames that share a microsecond get their id added. Entries
    read their objects when iterated. Blocks (index pages); raises InvalidInput when the
    range holds more than `max_frames` frames."""
    archive = ZipStream(sized=True)  # stored entries of known size: the length is known at once
    cursor: str | None = None
    count, previous = 0, None
    while True:
        page = index.page(camera, since_us, until_us, INDEX_PAGE_FRAMES, cursor)
        for frame in page.frames:
            count += 1
            if count > max_frames:
                raise InvalidInput(f"a zip holds at most {max_frames} frames; choose a shorter range")
            name = stamp(frame.timestamp_us)
            if frame.timestamp_us == previous:
                name = f"{name}_{frame.frame_id}"
            previous = frame.timestamp_us
            archive.add(_StoredFrame(objects, frame), f"{name}.jpg", size=frame.size)
        if page.next_cursor is None:
            return archive
        cursor = page.next_cursor


class ZipHandler(JsonHandler):
    """`GET .../frames.zip?since=...&until=...`: the camera's frames in [since, until) as
    one zip (instants as in `api.times`, `tz` as in the JSON API; at most 366 days)."""

    async def get(self, camera_id: str) -> None:
        access = await self.readable_camera(camera_id)
        since, until = self._instant("since"), self._instant("until")
        if until <= since:
            raise InvalidInput("until must be later than since")
        if until - since > MAX_RANGE_US:
            raise InvalidInput("a zip spans at most 366 days")
        services = self.services
        archive = await services.run(frame_archive, services.index, services.objects, access.camera.username,
                                     since, until, services.settings.api.zip_max_frames)
        name = f"{file_stem(access.camera.name)}_{stamp(since)}_{stamp(until)}.zip"
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Length", len(archive))
        self.set_header("Content-Disposition", attachment(name))
        pieces = iter(archive)
        ahead = asyncio.ensure_future(services.run(_take, pieces))
        try:
            while buffer := await ahead:
                ahead = asyncio.ensure_future(services.run(_take, pieces))  # read on while this is sent
                self.write(buffer)
                await self.flush()
        except StreamClosedError:
            return  # the client went away
        except ApiError as error:  # a frame removed (or the store gone) after the listing
            if not self._headers_written:
                raise  # nothing sent yet: an error answer (404 or 503) says what went wrong
            log.warning("zip_export_cut_short", camera=camera_id, error=error.message)
            if self.request.connection is not None:
                self.request.connection.close()  # the client sees a short body, never a wrong zip
            return
        finally:
            await asyncio.wait([ahead])  # the generator may be running in the pool: let it finish first
            ahead.exception()  # seen (it was handled above, or the client is gone)
            pieces.close()
        self.finish()

    def _instant(self, name: str) -> int:
        text = self.get_query_argument(name, None)
        if not text:
            raise InvalidInput(f"{name} is required")
        tz = self.get_query_argument("tz", None)
        return parse_instant(text, name, zone(tz) if tz else UTC)
