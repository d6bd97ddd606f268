"""Fuzz target: the checks an upload passes before an edge answers 200 or 226:
`sensr.scanner.extract_single_jpeg` and `sensr.frame_check` (`read_frame_shape`,
`check_frame`, `vet_upload`).

The input is the upload. The checks:

* only `JpegError` escapes any of them, whatever the bytes (`read_frame_shape` and
  `check_frame` are also given the raw upload: the catalog worker checks whatever a
  Kafka record holds);
* the JPEG `extract_single_jpeg` returns is a run of the upload, ``FF D8 FF`` ...
  ``FF D9``, within the size limit;
* `vet_upload` is `extract_single_jpeg` then `check_frame`: the same JPEG or the same
  refusal;
* `check_frame` refuses exactly the shapes over the pixel limit and returns what
  `read_frame_shape` reads;
* what `check_frame` accepts has the declared shape for the decoder too: if Pillow opens
  it, Pillow sees that width, height and number of components; and a small one goes
  through the catalog worker's thumbnail step with no error but `UndecodableImage`,
  at the declared size.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from catalog_worker.thumbnails import UndecodableImage, render_thumbnail
from sensr.frame_check import FrameShape, check_frame, read_frame_shape, vet_upload
from sensr.scanner import JpegError, extract_single_jpeg

MAX_BYTES = 1 << 20
MAX_PIXELS = 1 << 16
"""Small limits, so that inputs the fuzzer makes reach them."""
DECODE_PIXELS = 1 << 14
"""Frames at most this large are also decoded (thumbnail), which costs time per input."""
THUMBNAIL_WIDTH = 32
_COMPONENTS = {"L": 1, "RGB": 3, "YCbCr": 3, "CMYK": 4}

# A header claiming more than Pillow's limit only warns below twice the limit.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)


def test_one_input(data: bytes) -> None:
    _check_raw_header(data)
    try:
        jpeg = extract_single_jpeg(data, MAX_BYTES)
    except JpegError as refused:
        _expect_refusal(data, refused)
        return
    assert jpeg.startswith(b"\xff\xd8\xff") and jpeg.endswith(b"\xff\xd9") and jpeg in data
    assert len(jpeg) <= MAX_BYTES
    try:
        shape = check_frame(jpeg, MAX_PIXELS)
    except JpegError as refused:
        _expect_refusal(data, refused)
        return
    assert vet_upload(data, MAX_BYTES, MAX_PIXELS) == jpeg
    _check_decoder_agrees(jpeg, shape)


def _check_raw_header(data: bytes) -> None:
    """`read_frame_shape` and `check_frame` on any bytes: a shape or a JpegError, consistent."""
    try:
        shape = read_frame_shape(data)
    except JpegError as refused:
        assert refused.reason in ("not_jpeg", "unsupported"), refused.reason
        return
    assert shape.width > 0 and shape.height > 0 and shape.components in (1, 3, 4)
    try:
        assert check_frame(data, MAX_PIXELS) == shape and shape.pixels <= MAX_PIXELS
    except JpegError as refused:
        assert refused.reason == "too_many_pixels" and shape.pixels > MAX_PIXELS


def _expect_refusal(data: bytes, refused: JpegError) -> None:
    try:
        vet_upload(data, MAX_BYTES, MAX_PIXELS)
    except JpegError as same:
        assert same.reason == refused.reason, (same.reason, refused.reason)
    else:
        raise AssertionError(f"vet_upload accepted what its steps refused ({refused.reason})")


def _check_decoder_agrees(jpeg: bytes, shape: FrameShape) -> None:
    try:
        image = Image.open(io.BytesIO(jpeg))
    except (OSError, SyntaxError, ValueError):
        return  # not a header Pillow reads: the worker refuses it, whatever its shape
    with image:
        components = _COMPONENTS.get(image.mode)
        declared = (shape.width, shape.height, shape.components)
        assert (image.width, image.height, components) == declared, \
            f"check_frame read {declared}, Pillow reads {image.size} {image.mode}"
    if shape.pixels <= DECODE_PIXELS:
        try:
            thumbnail = render_thumbnail(jpeg, THUMBNAIL_WIDTH)
        except UndecodableImage:
            return
        assert (thumbnail.width, thumbnail.height) == (shape.width, shape.height)
