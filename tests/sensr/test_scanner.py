"""The streaming JPEG scanner (sensr.scanner), on real Pillow JPEGs.

Property tests build streams from `tests.support.jpegs.sample_frames()` (baseline, progressive,
restart intervals, EXIF thumbnails, stuffing-heavy noise, a comment holding FF D8 FF D9)
and `tests.support.jpegs.mpf_files()` (multi-image MPF files, each one frame), put junk and ffmpeg
multipart headers between the frames and feed them in random chunks.
"""

from __future__ import annotations

import io
import itertools
import struct
import time
from collections.abc import Iterable, Iterator, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image

from sensr.scanner import FrameScanner, JpegError, extract_single_jpeg
from tests.support.jpegs import (EOI, make_jpeg, make_mpo, markers, mpf_files, mpf_images, mpjpeg_part_header,
                         mpjpeg_stream, sample_frames)

FRAMES = sample_frames()
MPF_FILES = mpf_files()
PILLOW_MPO, ULTRA_HDR_LIKE = MPF_FILES[0], MPF_FILES[2]
EXIF_FRAME = make_jpeg(64, 48, content="gradient", exif_thumbnail=True, seed=2)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- helpers -------------------------------------------------------------------------------

WHOLE = (1 << 40,)


def chunks(data: bytes, sizes: Sequence[int]) -> Iterator[bytes]:
    """`data` cut into consecutive pieces whose sizes cycle through `sizes`."""
    pos = 0
    for size in itertools.cycle(sizes):
        if pos >= len(data):
            return
        yield data[pos:pos + size]
        pos += size


def scan(data: bytes, sizes: Sequence[int] = WHOLE, **options: int) -> tuple[list[bytes], FrameScanner]:
    """Feed a whole stream in chunks, finish(), and return the frames and the scanner."""
    scanner = FrameScanner(**options)
    frames = [frame for chunk in chunks(data, sizes) for frame in scanner.feed(chunk)]
    scanner.finish()
    return frames, scanner


def counters(scanner: FrameScanner) -> tuple[int, ...]:
    return (scanner.frames, scanner.skipped_bytes, scanner.truncated_bytes, scanner.oversized_frames,
            scanner.oversized_bytes, scanner.buffered_bytes)


def assert_accounted(data: bytes, frames: Iterable[bytes], scanner: FrameScanner) -> None:
    """After finish(), every input byte is in a frame or in exactly one counter."""
    assert scanner.buffered_bytes == 0
    assert (sum(map(len, frames)) + scanner.skipped_bytes + scanner.truncated_bytes
            + scanner.oversized_bytes) == len(data)


def no_soi(junk: bytes) -> bytes:
    """Junk that cannot start a frame: every FF D8 becomes FF D7 (which creates no new FF D8)."""
    return junk.replace(b"\xff\xd8", b"\xff\xd7")


def segment_bounds(jpeg: bytes, marker: int) -> tuple[int, int]:
    """(start, end) of the first marker segment with code `marker`, found by walking the
    headers by length (not by searching)."""
    pos = 2
    while True:
        code = jpeg[pos + 1]
        end = pos + 2 + struct.unpack_from(">H", jpeg, pos + 2)[0]
        if code == marker:
            return pos, end
        pos = end


def last_scan_data(jpeg: bytes) -> tuple[int, int]:
    """(start, end) of the entropy-coded data of the last scan: after the last SOS header, up to EOI."""
    sos = jpeg.rindex(b"\xff\xda")
    return sos + 2 + struct.unpack_from(">H", jpeg, sos + 2)[0], len(jpeg) - 2


chunk_sizes = st.lists(st.one_of(st.integers(1, 8), st.integers(1, 3000)), min_size=1, max_size=6)
junk = st.one_of(
    st.binary(max_size=80).map(no_soi),
    st.sampled_from([b"", b"\r\n", b"\r\n--ffmpeg\r\n", b"\x00" * 7, b"\xff" * 5, b"\xff\xd9\xff\xd9",
                     "netcam banner with FF D8 but no FF after it: ÿØ\r\n".encode("latin-1")]),
    st.integers(0, 200_000).map(lambda n: b"\r\n--ffmpeg\r\n" + mpjpeg_part_header(n)),
)


@st.composite
def framed_streams(draw: st.DrawFn, max_frames: int = 6) -> tuple[bytes, list[bytes], int]:
    """(stream, frames in it, total junk length): junk, frame, junk, frame, ..., junk."""
    frames = draw(st.lists(st.sampled_from(FRAMES + MPF_FILES), max_size=max_frames))
    gaps = [draw(junk) for _ in range(len(frames) + 1)]
    stream = gaps[0] + b"".join(frame + gap for frame, gap in zip(frames, gaps[1:], strict=True))
    return stream, frames, sum(map(len, gaps))


# -- the fixtures are what they claim to be -------------------------------------------------

@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f"{len(f)}B")
def test_sample_frames_are_well_formed_jpegs(frame: bytes) -> None:
    found = markers(frame)
    assert found[0] == 0xD8 and found[-1] == 0xD9
    with Image.open(io.BytesIO(frame)) as image:
        image.load()


def test_fixture_features_are_present() -> None:
    progressive = [markers(f) for f in FRAMES if 0xC2 in markers(f)]
    assert progressive and all(m.count(0xDA) > 1 for m in progressive)
    restart = [markers(f) for f in FRAMES if 0xDD in markers(f)]
    assert len(restart) >= 2 and all(any(0xD0 <= c <= 0xD7 for c in m) for m in restart)
    assert max(f.count(b"\xff\x00") for f in FRAMES) >= 50
    assert any(0xFE in markers(f) and b"\xff\xd8\xff\xd9" in f for f in FRAMES)


def test_exif_thumbnail_is_a_real_jpeg_inside_app1() -> None:
    app1_start, app1_end = segment_bounds(EXIF_FRAME, 0xE1)
    tiff_start = app1_start + 4 + len(b"Exif\x00\x00")
    with Image.open(io.BytesIO(EXIF_FRAME)) as image:
        ifd1 = image.getexif().get_ifd(ExifTags.IFD.IFD1)
    thumb_start = tiff_start + ifd1[0x0201]
    thumbnail = EXIF_FRAME[thumb_start:thumb_start + ifd1[0x0202]]
    assert thumbnail.startswith(b"\xff\xd8\xff") and thumbnail.endswith(EOI)
    assert app1_start < thumb_start and thumb_start + len(thumbnail) <= app1_end
    with Image.open(io.BytesIO(thumbnail)) as thumb_image:
        assert thumb_image.size == (32, 24)
    # A blind search for FF D9 would end the frame at the thumbnail's EOI.
    assert EXIF_FRAME.find(EOI) + 2 == thumb_start + len(thumbnail) < len(EXIF_FRAME)


def mpf_segment(jpeg: bytes) -> bytes:
    """The payload of the first image's APP2 segment (the MPF one in these fixtures)."""
    start, end = segment_bounds(jpeg, 0xE2)
    return jpeg[start + 4:end]


def test_pillow_writes_mpo_with_an_app2_mpf_index() -> None:
    assert mpf_segment(PILLOW_MPO).startswith(b"MPF\x00II*\x00")
    assert mpf_segment(MPF_FILES[2]).startswith(b"MPF\x00MM\x00*")


# A later image alone, with its MP Attribute segment, looks to Pillow like a broken MPO.
@pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file")
@pytest.mark.parametrize("data", MPF_FILES, ids=lambda f: f"{len(f)}B")
def test_mpf_fixtures_are_what_they_claim(data: bytes) -> None:
    """Each fixture is its listed images back to back, each a well-formed JPEG, and
    Pillow reads it as an MPO with those images."""
    images = mpf_images(data)
    assert len(images) >= 2 and b"".join(images) == data
    for image in images:
        assert markers(image)[-1] == 0xD9
    with Image.open(io.BytesIO(data)) as mpo:
        assert mpo.format == "MPO" and mpo.n_frames == len(images)
        for number, image in enumerate(images):
            mpo.seek(number)
            mpo.load()
            with Image.open(io.BytesIO(image)) as alone:
                assert mpo.size == alone.size


def test_mpf_fixture_features() -> None:
    assert len(mpf_images(make_mpo(12, 13, 14, progressive=True))) == 3
    # Ultra HDR-like: the primary carries an EXIF thumbnail (a JPEG inside APP1), the gain map is grayscale.
    primary, gain_map = mpf_images(ULTRA_HDR_LIKE)
    assert primary.count(b"\xff\xd8\xff") == 2 and markers(gain_map).count(0xDA) == 1
    # Later images with an MP Attribute IFD of their own.
    assert all(mpf_segment(image).startswith(b"MPF\x00II*\x00") for image in mpf_images(MPF_FILES[3])[1:])


# -- single frames ----------------------------------------------------------------------------

@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f"{len(f)}B")
def test_each_frame_whole_and_byte_by_byte(frame: bytes) -> None:
    for sizes in ([len(frame)], [1]):
        frames, scanner = scan(frame, sizes)
        assert frames == [frame]
        assert all(type(f) is bytes for f in frames)
        assert counters(scanner) == (1, 0, 0, 0, 0, 0)


def test_frame_is_returned_by_the_chunk_that_completes_it() -> None:
    frame = FRAMES[1]
    scanner = FrameScanner()
    assert scanner.feed(frame[:-1]) == []
    assert scanner.buffered_bytes == len(frame) - 1
    assert scanner.feed(frame[-1:] + b"\r\n") == [frame]
    assert scanner.buffered_bytes == 2 and scanner.frames == 1


def test_accepts_bytearray_and_memoryview_chunks() -> None:
    frame = FRAMES[3]
    scanner = FrameScanner()
    out = scanner.feed(bytearray(frame[:100])) + scanner.feed(memoryview(frame)[100:]) + scanner.feed(b"")
    assert out == [frame]


# -- streams ----------------------------------------------------------------------------------

@PROPERTY
@given(framed_streams(), chunk_sizes)
def test_frames_out_equal_frames_in_and_junk_is_counted(case: tuple[bytes, list[bytes], int],
                                                        sizes: list[int]) -> None:
    stream, expected, junk_length = case
    frames, scanner = scan(stream, sizes)
    assert frames == expected
    assert scanner.frames == len(expected)
    assert scanner.skipped_bytes == junk_length
    assert (scanner.truncated_bytes, scanner.oversized_frames, scanner.buffered_bytes) == (0, 0, 0)


@PROPERTY
@given(framed_streams(), chunk_sizes)
def test_chunking_does_not_change_anything(case: tuple[bytes, list[bytes], int], sizes: list[int]) -> None:
    stream, _, _ = case
    whole, whole_scanner = scan(stream)
    chunked, chunked_scanner = scan(stream, sizes)
    assert chunked == whole
    assert counters(chunked_scanner) == counters(whole_scanner)


def test_one_byte_chunks_over_a_mixed_stream() -> None:
    stream = b"junk\r\n" + mpjpeg_stream(FRAMES) + b"tail"
    frames, scanner = scan(stream, [1])
    assert frames == list(FRAMES)
    assert scanner.skipped_bytes == len(stream) - sum(map(len, FRAMES))


def test_ffmpeg_mpjpeg_stream() -> None:
    stream = mpjpeg_stream(FRAMES * 3)
    frames, scanner = scan(stream, [65536])
    assert frames == list(FRAMES * 3)
    headers = len(b"--ffmpeg\r\n") + sum(len(mpjpeg_part_header(len(f))) + len(b"\r\n--ffmpeg\r\n")
                                          for f in FRAMES * 3)
    assert scanner.skipped_bytes == headers
    assert_accounted(stream, frames, scanner)


def test_raw_concatenation_without_separators() -> None:
    frames, scanner = scan(b"".join(FRAMES * 2), [997])
    assert frames == list(FRAMES * 2) and scanner.skipped_bytes == 0


def test_one_byte_feeding_is_linear() -> None:
    """Remembering the parse position keeps 1-byte feeds O(n); a rescan per byte would
    take minutes for this 250 KB frame, the scanner about half a second."""
    frame = make_jpeg(512, 400, content="noise", quality=95)
    assert len(frame) > 200_000
    scanner = FrameScanner()
    started = time.perf_counter()
    frames = [f for i in range(len(frame)) for f in scanner.feed(frame[i:i + 1])]
    assert frames == [frame]
    assert time.perf_counter() - started < 8


# -- MPF files: several images, one frame -----------------------------------------------------

UNREADABLE_INDEX = ULTRA_HDR_LIKE.replace(b"MPF\x00MM", b"MPF\x00XX", 1)


@pytest.mark.parametrize("data", MPF_FILES, ids=lambda f: f"{len(f)}B")
@pytest.mark.parametrize("sizes", [[1], [7], WHOLE], ids=["1B", "7B", "whole"])
def test_mpf_file_is_one_frame(data: bytes, sizes: list[int]) -> None:
    """Back to back with plain frames and with itself, and in ffmpeg multipart parts."""
    stream = FRAMES[0] + data + data + FRAMES[1] + b"\r\n" + mpjpeg_stream([data, FRAMES[2]])
    frames, scanner = scan(stream, sizes)
    assert frames == [FRAMES[0], data, data, FRAMES[1], data, FRAMES[2]]
    assert (scanner.truncated_bytes, scanner.oversized_frames) == (0, 0)
    assert_accounted(stream, frames, scanner)


def test_mpf_file_is_returned_by_the_chunk_that_completes_it() -> None:
    primary = mpf_images(PILLOW_MPO)[0]
    scanner = FrameScanner()
    assert scanner.feed(primary) == []  # its MP Index lists an image right after its EOI
    assert scanner.feed(PILLOW_MPO[len(primary):]) == [PILLOW_MPO]
    assert scanner.buffered_bytes == 0


def test_images_without_a_readable_mp_index_are_frames_of_their_own() -> None:
    """The limit: the same images with an unreadable MP Index split into their images."""
    primary_length = len(mpf_images(ULTRA_HDR_LIKE)[0])
    assert scan(UNREADABLE_INDEX, [7])[0] == [UNREADABLE_INDEX[:primary_length], UNREADABLE_INDEX[primary_length:]]


def test_mp_entry_sizes_are_not_relied_on() -> None:
    """Only the listed offsets count: Pillow 13, for one, writes a third image's size as
    its end offset. A gain map listed far too long still ends the file at its EOI."""
    data = bytearray(ULTRA_HDR_LIKE)
    start, _ = segment_bounds(ULTRA_HDR_LIKE, 0xE2)
    second_entry_size = start + 8 + 50 + 16 + 4  # MP header, IFD (3 entries), first MP entry, attributes
    assert struct.unpack_from(">I", data, second_entry_size)[0] == len(mpf_images(ULTRA_HDR_LIKE)[1])
    struct.pack_into(">I", data, second_entry_size, 1 << 20)
    wrong_size = bytes(data)
    assert extract_single_jpeg(wrong_size) == wrong_size
    assert scan(wrong_size + FRAMES[0], [7])[0] == [wrong_size, FRAMES[0]]


@pytest.mark.parametrize("sizes", [[1], [7], WHOLE], ids=["1B", "7B", "whole"])
def test_broken_later_image_ends_the_mpf_file(sizes: list[int]) -> None:
    """The gain map cut in its scan data by the next frame's SOI: the MPF file is emitted
    with the images before it, the broken one is skipped, the next frame is found."""
    primary, gain_map = mpf_images(ULTRA_HDR_LIKE)
    start, end = last_scan_data(gain_map)
    cut = len(primary) + (start + end) // 2
    frames, scanner = scan(ULTRA_HDR_LIKE[:cut] + FRAMES[0], sizes)
    assert frames == [primary, FRAMES[0]]
    assert scanner.skipped_bytes == cut - len(primary)


@pytest.mark.parametrize("data", MPF_FILES, ids=lambda f: f"{len(f)}B")
@pytest.mark.parametrize("sizes", [[1], [500], WHOLE], ids=["1B", "500B", "whole"])
def test_mpf_file_counts_whole_against_the_limit(data: bytes, sizes: list[int]) -> None:
    """The first image fits the limit, the file does not: it is dropped whole (none of
    its later images comes out as a frame) and the next frame is found."""
    limit = len(mpf_images(data)[0]) + 100
    frames, scanner = scan(data + FRAMES[0], sizes, max_frame_bytes=limit)
    assert frames == [FRAMES[0]]
    assert (scanner.oversized_frames, scanner.oversized_bytes, scanner.skipped_bytes) == (1, len(data), 0)
    assert scan(data, sizes, max_frame_bytes=len(data))[0] == [data]


# -- false starts, truncation, resynchronisation ------------------------------------------------

def test_ff_d8_without_a_following_marker_is_junk() -> None:
    junk_bytes = b"\xff\xd8\x00\xff\xd8\r\n\xff\xd8"
    frames, scanner = scan(junk_bytes + FRAMES[0] + junk_bytes, [3])
    assert frames == [FRAMES[0]]
    assert scanner.skipped_bytes == 2 * len(junk_bytes)


SOF_ONE_COMPONENT = b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00"
FALSE_STARTS = [
    b"\xff\xd8\xff",                                  # SOI + FF, then the real SOI
    b"\xff\xd8\xff\x00",                              # stuffing where a marker must be
    b"\xff\xd8\xff\x42junk",                          # reserved marker code
    b"\xff\xd8\xff\xd0",                              # restart marker in the headers
    b"\xff\xd8\xff\xd9",                              # EOI before any scan
    b"\xff\xd8\xff\xe0\x00\x00",                      # impossible length 0
    b"\xff\xd8\xff\xe0\x00\x01",                      # impossible length 1
    b"\xff\xd8\xff\xfe\x00\x04ab junk",               # a comment, then no marker
    b"\xff\xd8\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00",  # scan before a frame header
    b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x03",  # SOF: length does not fit 3 components
    SOF_ONE_COMPONENT + b"\xff\xda\x00\x02",          # SOS with length 2
    SOF_ONE_COMPONENT + b"\xff\xda\x00\x0a\x02\x01\x00\x02\x11\x00\x3f\x00",  # SOS: 2 components, length for 1
    b"\xff\xd8\xff\xe1\x00\x10" + b"\xff" * 40,      # FF fill run into the real SOI
    b"\xff\xd8\xff\xfe\x00\x04ab",                    # a comment, then the real SOI as a marker
    b"\xff\xd8\xff\xfe\x02\x00",                      # a comment reaching over the real SOI
]


@pytest.mark.parametrize("false_start", FALSE_STARTS)
@pytest.mark.parametrize("sizes", [[1], [7], [1 << 20]], ids=["1B", "7B", "whole"])
def test_false_start_does_not_cost_the_following_frames(false_start: bytes, sizes: list[int]) -> None:
    """Guarantee: a false start that breaks the JPEG structure before an EOI, even after
    its segment lengths stepped over the real SOI, gives back every byte after its FF D8;
    the frames that follow are all found and the false start is counted as skipped."""
    real = [FRAMES[1], FRAMES[3]]
    stream = b"--ffmpeg\r\n" + false_start + b"".join(real)
    frames, scanner = scan(stream, sizes)
    assert frames == real
    assert scanner.skipped_bytes == len(b"--ffmpeg\r\n") + len(false_start)
    assert scanner.truncated_bytes == 0


INVALID_MARKER_CODES = [0x00, *range(0x02, 0xC0), *range(0xD0, 0xD8)]


@PROPERTY
@given(st.binary(max_size=40).map(no_soi), st.sampled_from(INVALID_MARKER_CODES),
       st.binary(max_size=30).map(no_soi), chunk_sizes)
def test_false_start_followed_by_broken_structure(prefix: bytes, code: int, rest: bytes,
                                                   sizes: list[int]) -> None:
    """A false start in random junk whose first marker code is invalid (stuffing,
    reserved, RSTn): skipped whole, and the frame after it is found."""
    stream = prefix + b"\xff\xd8\xff" + bytes([code]) + rest + FRAMES[2]
    frames, scanner = scan(stream, sizes)
    assert frames == [FRAMES[2]]
    assert scanner.skipped_bytes == len(stream) - len(FRAMES[2])


@PROPERTY
@given(st.sampled_from(FRAMES), st.data(), chunk_sizes)
def test_frame_cut_in_its_scan_data_then_a_new_frame(cut_frame: bytes, data: st.DataObject,
                                                     sizes: list[int]) -> None:
    """A frame that stops mid-scan and the next frame's SOI: the cut frame is skipped,
    the next one is emitted whole."""
    start, end = last_scan_data(cut_frame)
    cut = data.draw(st.integers(start, end))
    following = data.draw(st.sampled_from(FRAMES))
    frames, scanner = scan(cut_frame[:cut] + following, sizes)
    assert frames == [following]
    assert scanner.skipped_bytes == cut


@PROPERTY
@given(framed_streams(max_frames=3), st.sampled_from(FRAMES + MPF_FILES), st.data(), chunk_sizes)
def test_truncated_last_frame_is_never_emitted(case: tuple[bytes, list[bytes], int], last: bytes,
                                               data: st.DataObject, sizes: list[int]) -> None:
    stream, expected, junk_length = case
    cut = data.draw(st.integers(3, len(last) - 1))
    frames, scanner = scan(stream + last[:cut], sizes)
    assert frames == expected
    assert scanner.truncated_bytes == cut
    assert scanner.skipped_bytes == junk_length


def test_soi_split_over_the_end_is_junk_not_truncation() -> None:
    frames, scanner = scan(FRAMES[0] + b"\xff\xd8", [1])
    assert frames == [FRAMES[0]]
    assert (scanner.skipped_bytes, scanner.truncated_bytes) == (2, 0)


def test_finish_resets_for_a_new_stream() -> None:
    scanner = FrameScanner()
    scanner.feed(FRAMES[1][:500])
    scanner.finish()
    assert (scanner.truncated_bytes, scanner.buffered_bytes) == (500, 0)
    assert scanner.feed(FRAMES[1]) == [FRAMES[1]]


# -- size limit -----------------------------------------------------------------------------

@PROPERTY
@given(framed_streams(), chunk_sizes, st.integers(700, 5000))
def test_oversized_frames_are_dropped_without_buffering(case: tuple[bytes, list[bytes], int],
                                                        sizes: list[int], limit: int) -> None:
    stream, frames_in, junk_length = case
    scanner = FrameScanner(max_frame_bytes=limit)
    out: list[bytes] = []
    for chunk in chunks(stream, sizes):
        out += scanner.feed(chunk)
        assert scanner.buffered_bytes <= limit
    scanner.finish()
    big = [f for f in frames_in if len(f) > limit]
    assert out == [f for f in frames_in if len(f) <= limit]
    assert scanner.oversized_frames == len(big)
    assert scanner.oversized_bytes == sum(map(len, big))
    assert scanner.skipped_bytes == junk_length
    assert_accounted(stream, out, scanner)


def test_limit_is_inclusive() -> None:
    frame = FRAMES[1]
    assert scan(frame, max_frame_bytes=len(frame))[0] == [frame]
    frames, scanner = scan(frame + FRAMES[0], [1000], max_frame_bytes=len(frame) - 1)
    assert frames == [FRAMES[0]] and scanner.oversized_frames == 1


def test_segment_longer_than_the_limit_is_not_buffered() -> None:
    """The EXIF APP1 declares more bytes than the limit: the frame is dropped as soon as
    that length is read, before its bytes arrive."""
    _, app1_end = segment_bounds(EXIF_FRAME, 0xE1)
    limit = app1_end - 100
    scanner = FrameScanner(max_frame_bytes=limit)
    scanner.feed(EXIF_FRAME[:30])
    assert scanner.oversized_frames == 1 and scanner.buffered_bytes == 0
    assert scanner.feed(EXIF_FRAME[30:] + FRAMES[0]) == [FRAMES[0]]


def test_huge_frame_memory_stays_bounded() -> None:
    """A 'frame' that never ends (SOI, headers, endless scan data) is dropped at the limit
    and the buffer stays under limit + chunk while megabytes go by."""
    head, _ = last_scan_data(FRAMES[1])
    limit, chunk = 64 * 1024, b"\x12\x34\xff\x00\xff\xd3" * 10_000
    scanner = FrameScanner(max_frame_bytes=limit)
    scanner.feed(FRAMES[1][:head])
    peak = 0
    for _ in range(100):
        scanner.feed(chunk)
        peak = max(peak, scanner.buffered_bytes)
    assert peak <= limit and scanner.oversized_frames == 1
    assert scanner.feed(FRAMES[1][-2:] + FRAMES[0]) == [FRAMES[0]]


def test_limit_must_be_sane() -> None:
    with pytest.raises(ValueError):
        FrameScanner(max_frame_bytes=0)


# -- garbage --------------------------------------------------------------------------------

@PROPERTY
@given(st.binary(max_size=3000), chunk_sizes)
def test_random_bytes_never_crash_and_are_accounted(data: bytes, sizes: list[int]) -> None:
    frames, scanner = scan(data, sizes)
    whole, whole_scanner = scan(data)
    assert frames == whole and counters(scanner) == counters(whole_scanner)
    assert_accounted(data, frames, scanner)


@PROPERTY
@given(st.text(max_size=500), chunk_sizes)
def test_text_is_all_skipped(text: str, sizes: list[int]) -> None:
    data = text.encode()
    frames, scanner = scan(data, sizes)
    assert frames == [] and scanner.skipped_bytes == len(data)


edits = st.lists(st.tuples(st.integers(0), st.integers(0, 3),
                           st.one_of(st.binary(max_size=4), st.just(b"\xff\xd8\xff"))), max_size=6)


@PROPERTY
@given(framed_streams(max_frames=4), edits, chunk_sizes)
def test_corrupted_streams(case: tuple[bytes, list[bytes], int], damage: list[tuple[int, int, bytes]],
                           sizes: list[int]) -> None:
    """Arbitrary damage (bytes replaced, lost, inserted; FF D8 FF injected): the chunked
    result equals the whole-stream result, every frame is a delimited slice of the input
    (in order, not overlapping), and every byte is accounted for."""
    data = bytearray(case[0])
    for position, removed, inserted in damage:
        position %= len(data) + 1
        data[position:position + removed] = inserted
    stream = bytes(data)
    frames, scanner = scan(stream, sizes)
    whole, whole_scanner = scan(stream)
    assert frames == whole and counters(scanner) == counters(whole_scanner)
    assert_accounted(stream, frames, scanner)
    position = 0
    for frame in frames:
        assert frame.startswith(b"\xff\xd8\xff") and frame.endswith(EOI)
        assert frame in stream[position:]
        position = stream.index(frame, position) + len(frame)


def _segment(code: int, payload: bytes, length_error: int = 0) -> bytes:
    """A marker segment; `length_error` is added to its length field (clamped to 0..65535)."""
    length = min(max(len(payload) + 2 + length_error, 0), 0xFFFF)
    return bytes([0xFF, code]) + length.to_bytes(2, "big") + payload


def _sof(components: int, length_error: int) -> bytes:
    return _segment(0xC0, bytes([8, 0, 16, 0, 16, components]) + b"\x01\x11\x00" * components, length_error)


def _sos(components: int, length_error: int) -> bytes:
    return _segment(0xDA, bytes([components]) + b"\x01\x00" * components + b"\x00\x3f\x00", length_error)


length_errors = st.one_of(st.just(0), st.integers(-8, 3))
jpeg_tokens = st.one_of(
    st.builds(_sof, st.integers(0, 4), length_errors),
    st.builds(_sos, st.integers(0, 5), length_errors),
    st.builds(_segment, st.sampled_from([0xC4, 0xDB, 0xDC, 0xDD, 0xE0, 0xE1, 0xFE]), st.binary(max_size=12),
              length_errors),
    st.sampled_from([b"\xff\xd8\xff", b"\xff\xd9", b"\xff\x00", b"\xff\xd3", b"\xff\xff", b"\xff", b"\xff\x01",
                     b"\xff\x42"]),
    st.binary(max_size=12),
)


@settings(PROPERTY, max_examples=1000)
@given(st.lists(jpeg_tokens, max_size=12).map(lambda tokens: b"\xff\xd8" + b"".join(tokens)),
       st.sampled_from(FRAMES), chunk_sizes)
def test_jpeg_like_garbage(garbage: bytes, frame: bytes, sizes: list[int]) -> None:
    """Markers, segments with wrong or right lengths, SOF/SOS headers and scan bytes in
    random order (what broken encoders and bit errors produce): no exception, chunking
    makes no difference, every byte is accounted for, every frame is delimited."""
    for stream in (garbage, garbage + frame):
        frames, scanner = scan(stream, sizes)
        whole, whole_scanner = scan(stream)
        assert frames == whole and counters(scanner) == counters(whole_scanner)
        assert_accounted(stream, frames, scanner)
        assert all(f.startswith(b"\xff\xd8\xff") and f.endswith(EOI) for f in frames)


def test_impossible_lengths_and_fill_runs_do_not_hang() -> None:
    garbage = (b"\xff\xd8\xff\xe0\x00\x00" * 5000 + b"\xff\xd8" + b"\xff" * 300_000
               + b"\xff\xd8\xff\xc4\x00\x01" * 5000)
    started = time.perf_counter()
    frames, scanner = scan(garbage + FRAMES[4], [4096])
    assert frames == [FRAMES[4]]
    assert scanner.skipped_bytes == len(garbage)
    assert time.perf_counter() - started < 5


# -- extract_single_jpeg --------------------------------------------------------------------

@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f"{len(f)}B")
def test_extract_single_jpeg_returns_the_frame(frame: bytes) -> None:
    assert extract_single_jpeg(frame) == frame
    assert extract_single_jpeg(b"\r\n  " + frame + b"\r\n\x00\x00") == frame
    assert extract_single_jpeg(memoryview(mpjpeg_stream([frame]))) == frame


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (b" \r\n\t", "empty"),
    (b"hello, world", "not_jpeg"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not_jpeg"),
    (b"\xff\xd8\xff\x00 broken", "not_jpeg"),
    (FRAMES[1][:-1], "truncated"),
    (FRAMES[1][:3], "truncated"),
    (EXIF_FRAME[:1000], "truncated"),
    (FRAMES[0] + FRAMES[0], "multiple_frames"),
    (FRAMES[0] + b"\r\n" + FRAMES[1][:200], "multiple_frames"),
])
def test_extract_single_jpeg_rejects(data: bytes, reason: str) -> None:
    with pytest.raises(JpegError) as caught:
        extract_single_jpeg(data)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError) and len(str(caught.value)) > 10


@pytest.mark.parametrize("data", MPF_FILES, ids=lambda f: f"{len(f)}B")
def test_extract_single_jpeg_returns_an_mpf_file_whole(data: bytes) -> None:
    assert extract_single_jpeg(data) == data
    assert extract_single_jpeg(b"\r\n" + data + b"\r\n--x--\r\n") == data
    assert extract_single_jpeg(memoryview(mpjpeg_stream([data]))) == data
    assert extract_single_jpeg(data, max_frame_bytes=len(data)) == data
    with pytest.raises(JpegError) as caught:
        extract_single_jpeg(data, max_frame_bytes=len(data) - 1)
    assert caught.value.reason == "too_large"


PLAIN_PRIMARY = make_jpeg(96, 64, content="gradient", exif_thumbnail=True, seed=15)  # ULTRA_HDR_LIKE without MPF


@pytest.mark.parametrize(("data", "reason"), [
    (PLAIN_PRIMARY + mpf_images(ULTRA_HDR_LIKE)[1], "multiple_frames"),  # the same images, no MP Index
    (UNREADABLE_INDEX, "multiple_frames"),
    (PILLOW_MPO + FRAMES[0], "multiple_frames"),
    (FRAMES[0] + PILLOW_MPO, "multiple_frames"),
    (PILLOW_MPO + b"\r\n" + PILLOW_MPO, "multiple_frames"),
    (PILLOW_MPO[:len(mpf_images(PILLOW_MPO)[0])], "truncated"),  # stops where its index lists an image
    (PILLOW_MPO[:len(mpf_images(PILLOW_MPO)[0]) + 2], "truncated"),
    (PILLOW_MPO[:-1], "truncated"),
], ids=["no-index", "unreadable-index", "mpo+jpeg", "jpeg+mpo", "mpo+mpo", "primary-only", "primary+ffd8",
        "last-image-cut"])
def test_extract_single_jpeg_rejects_around_mpf_files(data: bytes, reason: str) -> None:
    with pytest.raises(JpegError) as caught:
        extract_single_jpeg(data)
    assert caught.value.reason == reason


def test_extract_single_jpeg_too_large() -> None:
    with pytest.raises(JpegError) as caught:
        extract_single_jpeg(FRAMES[1], max_frame_bytes=len(FRAMES[1]) - 1)
    assert caught.value.reason == "too_large"
    assert str(len(FRAMES[1]) - 1) in str(caught.value)
    assert extract_single_jpeg(FRAMES[1], max_frame_bytes=len(FRAMES[1])) == FRAMES[1]
