"""Streaming JPEG frame scanner.

Cameras send JPEGs as a raw concatenation, as ffmpeg-style ``multipart/x-mixed-replace``
parts, or as a single upload with stray bytes around it. `FrameScanner` splits such a
byte stream into complete JPEG frames as the bytes arrive; `extract_single_jpeg` checks
that an upload holds exactly one.

The scanner follows the JPEG marker structure (ITU T.81, annex B) instead of searching
for FF D8 / FF D9 byte pairs:

* A frame starts at ``FF D8 FF`` (SOI followed by the first marker).
* Marker segments (APPn, DQT, DHT, SOF, DRI, COM, ...) are stepped over by their
  two-byte length, so an EXIF thumbnail inside APP1, with its own SOI and EOI, neither
  becomes a frame nor ends the outer one.
* After a scan header (SOS), entropy-coded data runs until the next marker. In it every
  FF is followed by 00 (stuffing), D0-D7 (restart markers) or FF (fill), so one compiled
  ``re`` search finds the next real marker at C speed: EOI ends the frame, anything else
  (DHT, SOS of the next progressive scan, DNL, ...) goes back to segment parsing.

Garbage is detected structurally (an impossible marker, a length below 2, a scan before
any frame header, a malformed SOF or SOS, an SOI inside a frame). Scanning then resumes
at the *resync point*: just past the last marker whose preceding segment was confirmed
by a valid marker behind it. So a false start (``FF D8 FF`` in junk) never costs the
real frames after it, even if a bogus segment length in the junk reached over a real
SOI, as long as the junk fails to parse before an EOI; the bytes it spanned are counted
as skipped. The price of rewinding: if a frame is cut off inside its EXIF segment after
the embedded thumbnail and the next frame follows, the thumbnail can surface as a frame.

A Multi-Picture Format file (CIPA DC-007: stereo MPO, Ultra HDR and Apple gain maps,
camera previews) is one frame, whole: its first image carries an APP2 ``MPF\\0`` segment
whose MP Index lists the other images by offset and size, and they follow it in the file.
When the first image of a frame has a readable MP Index, an EOI where the index says
another image starts does not end the frame: that image (FF D8 FF there) is parsed as
part of it, and so on; the frame ends at the first EOI where no listed image starts. So
an MJPEG stream of MPF files, even back to back, splits into whole files. Only the
offsets are used (Pillow, for one, writes wrong sizes for a third image), and only the
first image's MP Index (later images may carry MP attributes). A broken later image ends
the file with the images before it; a file that stops where an image is listed is
truncated. Limits: the images must follow one another without padding (as the writers
we know store them), and an MP Index that cannot be read (a malformed writer's) groups
nothing; such a file splits into its images, as before.

The scanner keeps its parse position between calls, so every byte is examined a bounded
number of times however the stream is chunked, and a frame is copied out exactly once.
"""

from __future__ import annotations

import re
import struct
from typing import Literal

__all__ = ["FrameScanner", "JpegError", "JpegErrorReason", "extract_single_jpeg"]

DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024

JpegErrorReason = Literal["empty", "not_jpeg", "truncated", "too_large", "multiple_frames", "unsupported",
                          "too_many_pixels"]

_SOI_START = b"\xff\xd8\xff"
# The next real marker in entropy-coded data: FF not followed by stuffing, RSTn or fill.
_ENTROPY_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_FILL_RUN = re.compile(rb"\xff+")

_TEM, _SOS, _EOI, _APP2 = 0x01, 0xDA, 0xD9, 0xE2
_MPF = b"MPF\x00"
_MP_ENTRY_TAG = 0xB002
# SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}

_SEEK, _SEGMENTS, _ENTROPY, _NEXT_IMAGE = 0, 1, 2, 3


class JpegError(ValueError):
    """Input is not acceptable as a JPEG frame.

    `reason` is a short machine token: 'empty', 'not_jpeg', 'truncated', 'too_large',
    'multiple_frames' (from the scanner), 'unsupported' or 'too_many_pixels' (from
    `sensr.frame_check`); ``str(exc)`` is a message fit to show a client.
    """

    def __init__(self, reason: JpegErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason: JpegErrorReason = reason


def _is_segment_marker(marker: int) -> bool:
    """Markers that may stand between SOI and the entropy data and carry a length.

    Excluded: 00-BF (stuffing, TEM and reserved codes), RST0-7, SOI and EOI.
    """
    return marker >= 0xC0 and not 0xD0 <= marker <= 0xD9


def _mpf_starts(mp: bytes) -> frozenset[int]:
    """Offsets of the images an MP Index lists after the first, from the start of `mp`.

    `mp` is an APP2 ``MPF\\0`` payload after the signature: a TIFF-style header (byte
    order, 42, offset of the MP Index IFD), the base of MP entry offsets. The MP Entry
    tag (B002) holds 16 bytes per image: attributes, size, offset (0 for the first image),
    two dependent-image numbers. Empty if the index is unreadable or lists nothing more.
    """
    order = {b"II": "<", b"MM": ">"}.get(mp[:2])
    if order is not None:
        try:
            (ifd,) = struct.unpack_from(order + "I", mp, 4)
            (count,) = struct.unpack_from(order + "H", mp, ifd)
            for tag, _, size, offset in struct.iter_unpack(order + "HHII", mp[ifd + 2:ifd + 2 + 12 * count]):
                if tag == _MP_ENTRY_TAG:
                    entries = struct.iter_unpack(order + "IIIHH", mp[offset:offset + size])
                    return frozenset(start for _, _, start, _, _ in entries if start)
        except struct.error:  # offsets past the segment, a size not a multiple of the entry
            pass
    return frozenset()


class FrameScanner:
    """Splits a byte stream into complete JPEG frames, incrementally.

    Every byte fed ends up in exactly one place: an emitted frame, `skipped_bytes`,
    `truncated_bytes`, `oversized_bytes`, or (until more bytes or `finish()`) the buffer.

    A frame that outgrows `max_frame_bytes` is parsed on without being kept, so when
    `feed` returns the buffer holds at most `max_frame_bytes` bytes (or, while a dropped
    frame's SOF/SOS header or MPF segment is incomplete, that segment: under 64 KiB);
    during a call, the chunk on top. An MPF file counts as one frame against the limit.
    """

    frames: int
    """Frames emitted so far."""
    skipped_bytes: int
    """Bytes outside frames: multipart boundaries and headers, CRLFs, junk, false starts,
    and a frame cut off mid-stream (its bytes cannot be told from junk that looks like a
    frame start)."""
    truncated_bytes: int
    """Bytes of the frame still open when `finish()` was called."""
    oversized_frames: int
    """Frames dropped for exceeding `max_frame_bytes`."""
    oversized_bytes: int
    """Bytes of those frames (not part of the required API; completes the accounting)."""

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if max_frame_bytes < 4:
            raise ValueError("max_frame_bytes must be at least 4")
        self.max_frame_bytes = max_frame_bytes
        self.frames = 0
        self.skipped_bytes = 0
        self.truncated_bytes = 0
        self.oversized_frames = 0
        self.oversized_bytes = 0
        self._buf = bytearray()
        self._state = _SEEK
        # Buffer offsets. In a frame, the frame starts at offset 0 unless it is being
        # discarded; `_pos` may point past the end while a long segment is stepped over.
        self._pos = 0
        self._resync = 0
        self._discarding = False
        self._seen_sof = False
        self._scans = 0
        # MPF files: the buffer offset of the first image's MP header and the offsets
        # from it at which its MP Index lists images (empty: not an MPF file); where the
        # frame's last complete image ends (0 while parsing the first image; not moved
        # when a discarded frame's bytes are dropped).
        self._mpf_base = 0
        self._mpf_starts: frozenset[int] = frozenset()
        self._images_end = 0

    @property
    def buffered_bytes(self) -> int:
        """Bytes currently held: an unfinished frame, or up to two bytes of a possible SOI."""
        return len(self._buf)

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[bytes]:
        """Take the next bytes of the stream; return the frames they completed, in order.

        Each frame is one complete JPEG, SOI to EOI, byte for byte as sent. Chunks may
        be any size; the result does not depend on how the stream is split, unless a
        frame outgrows `max_frame_bytes`: its bytes are dropped as they come (at the end
        of each call), so if it then turns out broken, scanning resumes after what was
        dropped rather than at its last good marker, and a frame inside it may be lost.
        """
        if not chunk:
            return []
        self._buf += chunk
        out: list[bytes] = []
        while self._step(out):
            pass
        if self._state != _SEEK:
            self._limit_open_frame()
        return out

    def finish(self) -> None:
        """End of stream: a frame still open is counted in `truncated_bytes`, never emitted.

        (If that frame was already over the size limit, its rest goes to
        `oversized_bytes` instead.) The scanner is then ready for a new stream.
        """
        held = len(self._buf)
        if self._state == _SEEK:
            self.skipped_bytes += held
        elif self._discarding:
            self.oversized_bytes += held
        else:
            self.truncated_bytes += held
        self._buf.clear()
        self._enter_seek()

    # -- state machine ------------------------------------------------------------------

    def _step(self, out: list[bytes]) -> bool:
        """Advance as far as the buffered bytes allow; False when more input is needed."""
        if self._state == _SEEK:
            return self._seek()
        if self._state == _SEGMENTS:
            return self._segments(out)
        if self._state == _ENTROPY:
            return self._entropy(out)
        return self._next_image(out)

    def _seek(self) -> bool:
        buf = self._buf
        start = buf.find(_SOI_START)
        if start < 0:
            # Keep a possible "FF" or "FF D8" at the end for the next chunk.
            self._drop_skipped(max(len(buf) - 2, 0))
            return False
        self._drop_skipped(start)
        self._state = _SEGMENTS
        self._pos = self._resync = 2
        self._seen_sof = False
        self._scans = 0
        self._mpf_base = self._images_end = 0
        self._mpf_starts = frozenset()
        return True

    def _segments(self, out: list[bytes]) -> bool:
        """Parse marker segments from `_pos` until entropy data, EOI, an error or the end."""
        buf = self._buf
        end = len(buf)
        pos = self._pos
        while pos + 2 <= end:
            if buf[pos] != 0xFF:
                return self._structure_error(out)
            marker = buf[pos + 1]
            if marker == 0xFF:  # fill bytes before a marker
                fill = _FILL_RUN.match(buf, pos + 1)
                assert fill is not None
                pos = fill.end() - 1
                continue
            if marker == _EOI:
                if not self._scans:
                    return self._structure_error(out)
                return self._end_image(pos + 2, out)
            if marker == _TEM:
                pos += 2
                self._resync = pos
                continue
            if not _is_segment_marker(marker):
                return self._structure_error(out)
            if pos + 4 > end:
                break
            seg_end = pos + 2 + (buf[pos + 2] << 8 | buf[pos + 3])
            if seg_end < pos + 4:  # length below 2
                return self._structure_error(out)
            if seg_end > self.max_frame_bytes and not self._discarding:
                self._start_discarding()
            if marker == _SOS or marker in _SOF_MARKERS:
                if seg_end > end:  # validate only with the whole (small) header at hand
                    break
                if not self._header_ok(marker, pos, seg_end):
                    return self._structure_error(out)
            elif marker == _APP2 and not self._images_end and seg_end >= pos + 8:
                if pos + 8 > end:
                    break
                if buf.startswith(_MPF, pos + 4):
                    if seg_end > end:  # read the MP Index only with the whole segment at hand
                        break
                    self._mpf_base = pos + 8
                    self._mpf_starts = _mpf_starts(bytes(buf[pos + 8:seg_end]))
            self._resync = pos + 2
            pos = seg_end
            if marker == _SOS:
                self._scans += 1
                self._state = _ENTROPY
                self._pos = pos
                return True
        self._pos = pos
        return False

    def _header_ok(self, marker: int, pos: int, seg_end: int) -> bool:
        """Check an SOS or SOF header: component count against length, SOF before SOS."""
        buf = self._buf
        size = seg_end - pos
        if marker == _SOS:
            return self._seen_sof and size > 4 and 1 <= buf[pos + 4] <= 4 and size == 8 + 2 * buf[pos + 4]
        valid = size >= 10 and buf[pos + 9] >= 1 and size == 10 + 3 * buf[pos + 9]
        self._seen_sof = self._seen_sof or valid
        return valid

    def _entropy(self, out: list[bytes]) -> bool:
        buf = self._buf
        pos = self._pos
        found = _ENTROPY_MARKER.search(buf, pos)
        if found is None:
            end = len(buf)
            # A trailing FF may start a marker once the next byte arrives.
            self._pos = end - 1 if end > pos and buf[end - 1] == 0xFF else end
            return False
        marker_pos = found.start()
        if buf[marker_pos + 1] == _EOI:
            return self._end_image(marker_pos + 2, out)
        self._state = _SEGMENTS
        self._pos = marker_pos
        return True

    def _next_image(self, out: list[bytes]) -> bool:
        """After an image of an MPF file, where its MP Index lists another: that image must
        start right here, or the file ends with the images so far."""
        pos = self._pos
        ahead = self._buf[pos:pos + 3]
        if not _SOI_START.startswith(ahead):
            return self._end_frame(pos, out)
        if len(ahead) < 3:
            return False
        self._state = _SEGMENTS
        self._pos = self._resync = pos + 2
        self._seen_sof = False
        self._scans = 0
        return True

    # -- transitions ----------------------------------------------------------------------

    def _end_image(self, image_end: int, out: list[bytes]) -> bool:
        """An EOI: the frame ends, unless it is an MPF file listing an image that starts here."""
        if image_end - self._mpf_base not in self._mpf_starts:
            return self._end_frame(image_end, out)
        self._images_end = self._pos = image_end
        self._state = _NEXT_IMAGE
        return True

    def _end_frame(self, frame_end: int, out: list[bytes]) -> bool:
        if self._discarding:
            self.oversized_bytes += frame_end
        elif frame_end > self.max_frame_bytes:
            self.oversized_frames += 1
            self.oversized_bytes += frame_end
        else:
            with memoryview(self._buf) as view:
                out.append(view[:frame_end].tobytes())
            self.frames += 1
        del self._buf[:frame_end]
        self._enter_seek()
        return True

    def _structure_error(self, out: list[bytes]) -> bool:
        """Abandon the open frame and look for the next SOI from the resync point.

        In an MPF file, a broken image after the first ends the file with the complete
        images before it; the broken one is then scanned again as a frame of its own.
        """
        if self._images_end and not self._discarding:
            return self._end_frame(self._images_end, out)
        if self._discarding:
            self.oversized_bytes += self._resync
            del self._buf[: self._resync]
        else:
            self._drop_skipped(self._resync)
        self._enter_seek()
        return True

    def _start_discarding(self) -> None:
        self.oversized_frames += 1
        self._discarding = True

    def _limit_open_frame(self) -> None:
        """Enforce the size limit on the open frame and drop what a discarded one parsed.

        Called when the parser waits for input: the open frame then needs bytes beyond
        the buffer, so a buffer longer than the limit means the frame is too large.
        """
        if not self._discarding:
            if len(self._buf) <= self.max_frame_bytes:
                return
            self._start_discarding()
        parsed = min(self._pos, len(self._buf))
        self.oversized_bytes += parsed
        del self._buf[:parsed]
        self._pos -= parsed
        self._resync = max(self._resync - parsed, 0)
        self._mpf_base -= parsed

    def _drop_skipped(self, count: int) -> None:
        self.skipped_bytes += count
        del self._buf[:count]

    def _enter_seek(self) -> None:
        self._state = _SEEK
        self._pos = self._resync = 0
        self._discarding = False


def extract_single_jpeg(data: bytes | memoryview, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> bytes:
    """Return the one complete JPEG in an upload (photo or FTP file).

    Bytes around it that cannot start a frame (whitespace, CRLF, multipart headers) are
    tolerated and dropped; an EXIF thumbnail inside the JPEG is part of it, not a second
    image. A Multi-Picture Format file (phones' HDR gain maps, stereo MPO, camera
    previews: images listed by the first one's APP2 MP Index) is one JPEG, returned
    whole, from its first SOI to its last image's EOI (see the module notes for the
    limits). Raises `JpegError` with reason:

    * 'empty': no bytes, or only ASCII whitespace;
    * 'not_jpeg': no JPEG start with valid headers;
    * 'truncated': a JPEG that stops before its end-of-image marker (an MPF file: before
      the end of an image its index lists);
    * 'too_large': a JPEG (an MPF file: all of it) over `max_frame_bytes` (checked first);
    * 'multiple_frames': more than one JPEG, counting a truncated one after a complete one.
    """
    scanner = FrameScanner(max_frame_bytes)
    frames = scanner.feed(data)
    scanner.finish()
    if scanner.oversized_frames:
        raise JpegError("too_large", f"the JPEG image is larger than the limit of {max_frame_bytes} bytes")
    starts = len(frames) + (1 if scanner.truncated_bytes else 0)
    if starts > 1:
        raise JpegError("multiple_frames", f"the upload holds {starts} JPEG images; exactly one is expected")
    if scanner.truncated_bytes:
        raise JpegError("truncated", f"the JPEG image is truncated: it stops after {scanner.truncated_bytes} "
                                     "bytes, before its end-of-image marker")
    if not frames:
        if not bytes(data).strip():
            raise JpegError("empty", "the upload is empty")
        raise JpegError("not_jpeg", "the upload is not a JPEG image (no valid JPEG start and headers found)")
    return frames[0]
