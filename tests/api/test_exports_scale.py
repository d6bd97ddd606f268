"""A zip of 10,000 frames (api/exports.py), fetched with curl: its listing equals the
frames, its bytes equal the stored ones, and the api's peak memory does not follow the
zip's size. Objects and index rows are written directly (as the catalog worker would), on
PostgreSQL only: the database plays no part in what is measured."""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sensr.frames import new_frame_id
from sensr.index import FrameIndex, FrameRecord
from sensr.settings import S3Settings
from sensr.storage import make_s3_client, object_keys
from tests.support.api import ApiStack, create_camera, sign_up
from tests.support.jpegs import make_jpeg

FRAMES = 10_000
SMALL = 1_000
START_US = 1_796_083_200_000_000  # 2026-12-01T00:00:00Z
STEP_US = 1_000_000
MIB = 1024 * 1024
PEAK_GROWTH_BOUND = 24 * MIB
"""How much more the api's peak RSS may be for 10,000 frames than for 1,000: the zip grows
by ~190 MiB, what the api keeps (the central directory) by ~5 MB."""


@pytest.fixture(scope="module", params=["postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    from tests.support.api import drop_postgres_database, new_postgres_database
    server = request.getfixturevalue("postgres_url")
    url, name = new_postgres_database(server)
    yield url
    drop_postgres_database(server, name)


def frame_jpeg(n: int) -> bytes:
    """A ~20 KB JPEG, different for every `n` (a comment segment after SOI)."""
    base = make_jpeg(192, 144)
    note = f"frame {n}".encode()
    return base[:2] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + base[2:]


def store_frames(stack: ApiStack, username: str, count: int) -> list[FrameRecord]:
    """Originals in the bucket (8 writers) and rows in the index, one frame a second."""
    s3 = make_s3_client(S3Settings(s3_endpoint=stack.env["SENSR_S3_ENDPOINT"],
                                   s3_access_key=stack.env["SENSR_S3_ACCESS_KEY"],
                                   s3_secret_key=stack.env["SENSR_S3_SECRET_KEY"]))
    bucket = stack.env["SENSR_S3_BUCKET"]

    def store(n: int) -> FrameRecord:
        timestamp_us = START_US + n * STEP_US
        frame_id = new_frame_id(timestamp_us)
        image_key, thumbnail_key = object_keys(username, timestamp_us, frame_id)
        jpeg = frame_jpeg(n)
        s3.put_object(bucket, image_key, io.BytesIO(jpeg), len(jpeg), content_type="image/jpeg")
        return FrameRecord(frame_id=frame_id, camera=username, timestamp_us=timestamp_us, size=len(jpeg),
                           width=192, height=144, source="http", object_key=image_key, thumbnail_key=thumbnail_key)

    with ThreadPoolExecutor(8) as pool:
        records = list(pool.map(store, range(count)))
    index = FrameIndex.open(stack.env["SENSR_DATABASE_URL"])
    try:
        for start in range(0, count, 1000):
            index.add(records[start:start + 1000])
    finally:
        index.close()
    return records


def peak_rss_during(pid: int, action: callable) -> int:  # type: ignore[valid-type]
    """The process's peak resident set size while `action()` runs (Linux: the high-water
    mark is reset through /proc/<pid>/clear_refs first)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    action()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


def test_a_zip_of_10000_frames_in_constant_memory(api_stack: ApiStack, tmp_path: Path) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner, name="Busy")
    records = store_frames(api_stack, camera["username"], FRAMES)
    pid = api_stack.processes["api"].pid
    assert pid is not None
    url = api_stack.api(f"/cameras/{camera['id']}/frames.zip")

    def fetch(count: int, target: Path) -> None:
        until = (START_US + count * STEP_US) // 1_000_000
        subprocess.run(["curl", "-sSf", "-o", str(target), "-H", f"Authorization: Bearer {owner.token}",
                        f"{url}?since={START_US // 1_000_000}&until={until}"], check=True)

    fetch(10, tmp_path / "warm-up.zip")  # first use: imports, pools, connections
    small, large = tmp_path / "small.zip", tmp_path / "large.zip"
    small_peak = peak_rss_during(pid, lambda: fetch(SMALL, small))
    large_peak = peak_rss_during(pid, lambda: fetch(FRAMES, large))

    with zipfile.ZipFile(large) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == [
            f"2026-12-01T{n // 3600:02d}-{n // 60 % 60:02d}-{n % 60:02d}.000000Z.jpg" for n in range(FRAMES)]
        for n, info in enumerate(infos):
            assert archive.read(info) == frame_jpeg(n), info.filename
    assert len(zipfile.ZipFile(small).namelist()) == SMALL
    print(f"peak RSS {small_peak / MIB:.1f} MiB for {SMALL} frames ({small.stat().st_size / MIB:.0f} MiB zip), "
          f"{large_peak / MIB:.1f} MiB for {FRAMES} ({large.stat().st_size / MIB:.0f} MiB zip)")
    assert large.stat().st_size - small.stat().st_size > 6 * PEAK_GROWTH_BOUND, "frames too small to show anything"
    assert large_peak - small_peak < PEAK_GROWTH_BOUND
    assert sum(record.size for record in records) < large.stat().st_size
