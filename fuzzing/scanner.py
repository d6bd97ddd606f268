"""Fuzz target: `sensr.scanner.FrameScanner`, fed a stream in chunks the fuzzer chooses.

An input is a small header and the stream (see `encode_input`):

    byte 0        frame size limit: 0 is the default (16 MiB), n > 0 is max(4, n * n // 4)
    byte 1        number of cut points, modulo 16
    2 bytes each  the cut points (big-endian), modulo the stream length + 1
    the rest      the stream

The checks are the scanner's documented promises:

* every byte fed is accounted for, after each `feed` and after `finish`: frames emitted,
  `skipped_bytes`, `truncated_bytes`, `oversized_bytes` and the buffer add up to it;
* each frame is a whole JPEG as sent: ``FF D8 FF`` ... ``FF D9``, at most the limit,
  found in the stream after the previous one; `frames` counts them;
* the buffer stays bounded: at most the limit, or one header segment (< 64 KiB) of a
  frame being dropped, when `feed` returns;
* neither the frames nor the counters depend on the chunking: after `finish`, the same
  scanner fed the whole stream at once returns the same frames and counts the same
  bytes (which also checks that `finish` leaves it ready for a new stream), unless a
  frame outgrew the limit (then, as `FrameScanner.feed` says, they may differ).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sensr.scanner import DEFAULT_MAX_FRAME_BYTES, FrameScanner

MAX_CUTS = 16
LONGEST_SEGMENT = 2 + 0xFFFF
"""A marker and the longest segment its two-byte length can declare."""


def frame_limit(code: int) -> int:
    return DEFAULT_MAX_FRAME_BYTES if code == 0 else max(4, code * code // 4)


def encode_input(stream: bytes, limit_code: int = 0, cuts: Sequence[int] = ()) -> bytes:
    """The fuzz input that feeds `stream` cut at `cuts` to a scanner with `frame_limit(limit_code)`
    (for seed corpora and regression inputs)."""
    assert 0 <= limit_code <= 255 and len(cuts) < MAX_CUTS
    return bytes([limit_code, len(cuts)]) + b"".join(cut.to_bytes(2, "big") for cut in cuts) + stream


def decode_input(data: bytes) -> tuple[bytes, int, list[bytes]]:
    """(stream, frame limit, chunks) from a fuzz input."""
    if len(data) < 2:
        return b"", frame_limit(0), []
    count = data[1] % MAX_CUTS
    header = 2 + 2 * count
    stream = data[header:]
    cuts = sorted(int.from_bytes(data[at:at + 2], "big") % (len(stream) + 1) for at in range(2, header, 2))
    bounds = [0, *cuts, len(stream)]
    return stream, frame_limit(data[0]), [stream[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


class Counts(NamedTuple):
    """A scanner's counters, or what one stream added to them."""

    frames: int
    skipped_bytes: int
    truncated_bytes: int
    oversized_bytes: int
    oversized_frames: int

    @classmethod
    def of(cls, scanner: FrameScanner) -> Counts:
        return cls(scanner.frames, scanner.skipped_bytes, scanner.truncated_bytes, scanner.oversized_bytes,
                   scanner.oversized_frames)

    def __sub__(self, other: tuple[int, ...]) -> Counts:
        return Counts(*(a - b for a, b in zip(self, other)))

    def dropped(self) -> int:
        """Bytes not in frames."""
        return self.skipped_bytes + self.truncated_bytes + self.oversized_bytes


def test_one_input(data: bytes) -> None:
    stream, limit, chunks = decode_input(data)
    scanner = FrameScanner(limit)
    frames: list[bytes] = []
    fed = 0
    for chunk in chunks:
        frames += scanner.feed(chunk)
        fed += len(chunk)
        held = scanner.skipped_bytes + scanner.truncated_bytes + scanner.oversized_bytes + scanner.buffered_bytes
        assert _size(frames) + held == fed, "bytes lost or counted twice"
        assert scanner.buffered_bytes <= max(limit, LONGEST_SEGMENT), "buffer over its bound"
    scanner.finish()
    chunked = Counts.of(scanner)
    assert scanner.buffered_bytes == 0, "finish() left bytes in the buffer"
    assert _size(frames) + chunked.dropped() == len(stream), "bytes lost or counted twice at finish()"
    assert chunked.frames == len(frames), "frames counter disagrees with the frames emitted"
    _check_frames(frames, stream, limit)

    whole = scanner.feed(stream)  # after finish(): a new stream
    scanner.finish()
    at_once = Counts.of(scanner) - chunked
    assert _size(whole) + at_once.dropped() == len(stream), "bytes lost or counted twice in one feed"
    if chunked.oversized_frames or at_once.oversized_frames:
        return  # see FrameScanner.feed: after a frame over the limit, the frames may depend on the chunks
    assert whole == frames, "the frames depend on how the stream was chunked"
    assert at_once == chunked, "the byte counts depend on how the stream was chunked"


def _size(frames: list[bytes]) -> int:
    return sum(map(len, frames))


def _check_frames(frames: list[bytes], stream: bytes, limit: int) -> None:
    at = 0
    for frame in frames:
        assert frame.startswith(b"\xff\xd8\xff") and frame.endswith(b"\xff\xd9"), "a frame is not SOI..EOI"
        assert len(frame) <= limit, "a frame over the size limit was emitted"
        found = stream.find(frame, at)
        assert found >= 0, "a frame is not a run of the stream's bytes, in order"
        at = found + len(frame)
