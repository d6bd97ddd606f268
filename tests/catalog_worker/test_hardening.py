"""catalog_worker hardening (issue 17): bounded decoding memory, every vetted frame stored,
poison records dead-lettered instead of retried forever, deleted cameras purged.

The worker runs as a real subprocess against the real Kafka, SeaweedFS, SQLite and
PostgreSQL (tests/support/catalog_worker.py, tests/catalog_worker/conftest.py); the camera deletion
goes through the real api.
"""

from __future__ import annotations

import io
import secrets
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pytest
import requests
from PIL import Image, JpegImagePlugin

from catalog_worker.decode_budget import DecodeBudget, decode_cost
from catalog_worker.indexing import add_to_index
from catalog_worker.thumbnails import PLACEHOLDER_GREY, UndecodableImage, render_thumbnail
from sensr.activity import Event, EventRecord, Transition
from sensr.broker import FRAMES_DLQ
from sensr.frame_check import FrameShape, read_frame_shape, vet_upload
from sensr.frame_reader import FrameReader
from sensr.frames import MAX_TIMESTAMP_US, FrameEvent, FrameEventError
from sensr.index import FrameIndex, FrameRecord, FrameScore
from sensr.storage import object_keys
from tests.support import harness
from launcher.service_stack import start_group_at_end
from tests.support.kafka_tap import delete_camera, register_camera
from tests.support.jpegs import hostile_frames, make_jpeg, patch_frame_header
from tests.support.api import (
    drop_postgres_database, new_postgres_database, sign_up, stack_env, start_stack)
from tests.support.catalog_worker import (SEGMENT_AGE_S, Tail, Worker, all_rows, frames_for, object_names, produce,
                                          s3_client, stored_keys, wait_for, wait_until_sealed)

MIB = 1024 * 1024


def dead_letters(tail: Tail, camera: str, frame_ids: set[str], timeout: float = 90) -> dict[str, list[dict[str, bytes]]]:
    """The headers of the dead letters of `camera`'s frames, by frame id, once each of
    `frame_ids` has one. sensr.frames is shared by every test running against this Kafka,
    and so is the DLQ: a worker of another test (with a group of its own) may dead-letter
    the same frames too, so there may be several letters per frame."""
    def letters() -> dict[str, list[dict[str, bytes]]]:
        found: dict[str, list[dict[str, bytes]]] = {}
        for record in tail.records:
            headers = dict(record.headers)
            found.setdefault(headers.get("frame-id", b"").decode(), []).append(headers)
        return found

    def all_dead_lettered() -> bool:
        if frame_ids <= set(letters()):
            return True
        tail.collect({camera.encode()}, len(tail.records) + 1, timeout=1)
        return False

    harness.eventually(all_dead_lettered, timeout, 0, what=lambda: f"not dead-lettered: {frame_ids - set(letters())}")
    return letters()


# -- the decode budget (pure logic) -----------------------------------------------------------

def test_decode_cost_counts_a_progressive_frame_s_full_size_coefficients() -> None:
    bomb = read_frame_shape(hostile_frames()["progressive_bomb"])  # 13000 x 13000, progressive
    assert decode_cost(bomb, 320) >= 13000 * 13000 * bomb.components * 2  # ~1 GiB, as measured in the issue
    assert decode_cost(FrameShape(1920, 1080, 3, False), 320) < 2 * MIB  # decoded at 1/4 scale


def test_render_thumbnail_decodes_at_reduced_scale() -> None:
    """Draft mode: a 2560 x 1920 frame is decoded at 1/8 scale for a 320-pixel thumbnail."""
    decoded: list[tuple[int, int]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(image: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> object:
        result = real_draft(image, mode, size)
        decoded.append(image.size)
        return result

    with mock.patch.object(JpegImagePlugin.JpegImageFile, "draft", autospec=True, side_effect=spy):
        for progressive in (False, True):
            render_thumbnail(make_jpeg(2560, 1920, content="gradient", progressive=progressive), 320)
    assert decoded == [(320, 240), (320, 240)]


def test_decode_budget_lets_decodes_in_while_they_fit_and_one_over_budget_alone() -> None:
    budget = DecodeBudget(100)
    order: list[str] = []
    release = {name: threading.Event() for name in ("a", "b", "big", "c")}
    holding = {name: threading.Event() for name in release}

    def decode(name: str, cost: int) -> None:
        with budget.hold(cost):
            order.append(name)
            holding[name].set()
            release[name].wait(10)

    threads = {name: threading.Thread(target=decode, args=(name, cost))
               for name, cost in (("a", 60), ("b", 40), ("big", 250), ("c", 10))}
    for queued, name in enumerate(("a", "b", "big", "c")):  # in this order: c queues behind big
        threads[name].start()
        if name in ("a", "b"):
            assert holding[name].wait(10)
        else:
            harness.eventually(lambda: budget.waiting == queued - 1, timeout=10, what=f"{name} queued")
    assert order == ["a", "b"] and budget.held == 100
    release["a"].set()
    harness.eventually(lambda: budget.held == 40, timeout=10, what="a's bytes given back")
    assert order == ["a", "b"] and budget.waiting == 2, "over the budget: waits until nothing else is held"
    release["b"].set()
    assert holding["big"].wait(10) and order == ["a", "b", "big"]
    assert budget.held == 250 and budget.waiting == 1, "nothing joins a frame over the budget"
    release["big"].set()
    assert holding["c"].wait(10)
    release["c"].set()
    for thread in threads.values():
        thread.join(10)


# -- finding 1: the worker's memory stays bounded --------------------------------------------

def _peak_rss(pid: int) -> int:
    """The process's peak resident set size so far (Linux VmHWM), in bytes: exact, where
    sampling RSS could miss a short peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _ready(worker: Worker) -> bool:
    try:
        return worker.get("/readyz")[0] == 200
    except OSError:
        return False  # not listening yet


def _progressive_444(width: int, height: int) -> bytes:
    """A 16 x 16 progressive JPEG without chroma subsampling whose header says
    `width` x `height`: the frame whose decode costs the most memory per byte sent."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 90)).save(out, "JPEG", progressive=True, subsampling=0)
    return patch_frame_header(out.getvalue(), width=width, height=height)


MAX_PIXELS = 16_000_000
BUDGET = 128 * MIB


def test_peak_memory_stays_bounded_on_a_batch_of_the_worst_frames_the_edges_accept(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    """32 progressive frames declaring just under SENSR_MAX_FRAME_PIXELS (16 MP here: 96 MB
    of coefficients each), 8 writer threads: without the budget 8 decode at once."""
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    worker = workers(env, SENSR_MAX_FRAME_PIXELS=str(MAX_PIXELS), SENSR_CATALOG_DECODE_BUDGET_BYTES=str(BUDGET),
                     SENSR_CATALOG_UPLOAD_THREADS="8")
    wait_for("ready", lambda: _ready(worker))
    frames = [FrameEvent.new(camera, _progressive_444(4000, 3999 - n), "http") for n in range(32)]
    assert all(decode_cost(read_frame_shape(f.jpeg), 320) > BUDGET // 2 for f in frames), "one at a time"
    before = _peak_rss(worker.process.pid)
    produce(kafka_bootstrap, frames)

    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("every frame stored", lambda: index.totals(camera)[0] == len(frames), timeout=180)
    finally:
        index.close()
    growth = _peak_rss(worker.process.pid) - before
    print(f"peak RSS before {before / MIB:.0f} MiB, growth {growth / MIB:.0f} MiB")
    assert growth < BUDGET + 64 * MIB, f"peak RSS grew by {growth / MIB:.0f} MiB"


# -- finding 2: whatever passes check_frame is stored ----------------------------------------

def _scan_data(jpeg: bytes) -> tuple[int, int]:
    """Where the first scan's entropy-coded data starts and ends."""
    start = jpeg.index(b"\xff\xda")
    data = start + 2 + int.from_bytes(jpeg[start + 2:start + 4], "big")
    return data, jpeg.index(b"\xff", data)


def _garbage_entropy(jpeg: bytes) -> bytes:
    """`jpeg` with its first scan's entropy-coded data replaced by noise (no 0xFF, so no
    marker appears). libjpeg decodes it anyway, to junk pixels, with warnings."""
    start, end = _scan_data(jpeg)
    return jpeg[:start] + bytes((n * 37 + 11) % 255 for n in range(end - start)) + jpeg[end:]


def _corrupt_later_scan(jpeg: bytes) -> bytes:
    """A progressive `jpeg` whose second scan claims an impossible spectral selection
    (Ss=63 > Se=0): sound to the scanner and to `check_frame` (which read the segment
    structure and the frame header), fatal to libjpeg halfway through the image data."""
    second = jpeg.index(b"\xff\xda", jpeg.index(b"\xff\xda") + 2)
    selection = second + 5 + 2 * jpeg[second + 4]
    return jpeg[:selection] + bytes([63, 0]) + jpeg[selection + 2:]


def test_a_frame_pillow_cannot_decode_is_stored_with_a_placeholder_and_refused_kinds_dead_lettered(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    camera = unique_name
    register_camera(kafka_bootstrap, camera, "pw")
    corrupt = FrameEvent.new(camera, _corrupt_later_scan(make_jpeg(640, 360, seed=3, progressive=True)), "ftp",
                             filename="bad.jpg")
    assert vet_upload(corrupt.jpeg, 1 << 20, 1 << 30)  # what the edges check passes it ...
    with pytest.raises(UndecodableImage):  # ... but Pillow cannot decode it completely
        render_thumbnail(corrupt.jpeg, 320)
    garbage = FrameEvent.new(camera, _garbage_entropy(make_jpeg(320, 240, seed=4)), "http")
    refused = {kind: FrameEvent.new(camera, jpeg, "http") for kind, jpeg in hostile_frames().items()}
    good = frames_for(camera, 2)
    dlq = Tail(kafka_bootstrap, FRAMES_DLQ)
    worker = workers(env)
    produce(kafka_bootstrap, [corrupt, garbage, *refused.values(), *good])

    letters = dead_letters(dlq, camera, {e.frame_id for e in refused.values()})
    dlq.close()
    for event in refused.values():
        assert any(h["dlq-kind"] == b"bad_jpeg" and h["dlq-reason"] for h in letters[event.frame_id])
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("stored", lambda: index.totals(camera)[0] == 4)
        wait_until_sealed(index, [camera])
        assert index.get(camera, garbage.frame_id) is not None
        row = index.get(camera, corrupt.frame_id)
        assert row is not None and (row.width, row.height, row.filename) == (640, 360, "bad.jpg")
        reader = FrameReader(s3_client(env), env["SENSR_S3_BUCKET"])
        assert reader.original(row) == corrupt.jpeg
        with Image.open(io.BytesIO(reader.thumbnail(row))) as thumbnail:
            assert thumbnail.size == (320, 180)
            assert all(abs(a - b) <= 2 for a, b in zip(thumbnail.convert("RGB").getpixel((160, 90)),
                                                       PLACEHOLDER_GREY, strict=True))
    finally:
        index.close()
    assert worker.metric("sensr_catalog_frames_undecodable_total") == 1
    assert worker.log_events("frame_stored_undecodable")


# -- finding 4: a poison record is dead-lettered, never retried forever -----------------------

@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_control_characters_in_names_are_dead_lettered_and_other_cameras_go_on(
        request: pytest.FixtureRequest, database: str, env: dict[str, str], kafka_bootstrap: str,
        unique_name: str, workers: Callable[..., Worker]) -> None:
    """As a hostile producer writing straight to sensr.frames would: NUL (which PostgreSQL
    refuses in text), CR/LF, ESC and DEL in the file-name header."""
    if database == "postgresql":
        env = dict(env, SENSR_DATABASE_URL=request.getfixturevalue("postgres_url"))
    hostile, others = f"{unique_name}-h", [f"{unique_name}-{n}" for n in range(3)]
    for camera in (hostile, *others):
        register_camera(kafka_bootstrap, camera, "pw")
    names = ["nul\x00byte.jpg", "line\r\nbreak.jpg", "esc\x1b[31m.jpg", "del\x7f.jpg", "c1\x85.jpg"]
    poison = [FrameEvent.new(hostile, make_jpeg(seed=n), "ftp", filename=name) for n, name in enumerate(names)]
    after = {camera: frames_for(camera, 5, start_seed=n) for n, camera in enumerate(others)}
    dlq = Tail(kafka_bootstrap, FRAMES_DLQ)
    worker = workers(env)
    produce(kafka_bootstrap, [*poison, *(e for events in after.values() for e in events)])

    letters = dead_letters(dlq, hostile, {e.frame_id for e in poison})
    dlq.close()
    for event in poison:
        assert any(h["dlq-kind"] == b"bad_event" and b"control character" in h["dlq-reason"]
                   for h in letters[event.frame_id])
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        wait_for("the other cameras' frames indexed", lambda: all(index.totals(c)[0] == 5 for c in others))
        assert index.totals(hostile) == (0, 0)
    finally:
        index.close()
    assert worker.metric("sensr_catalog_retries_total") == 0


@pytest.mark.parametrize("header", ["filename", "stream-id", "client", "key"])
def test_a_frame_event_with_a_control_character_in_a_name_or_an_impossible_id_or_time_is_malformed(
        header: str) -> None:
    event = FrameEvent.new("cam28", make_jpeg(), "mjpeg", client="127.0.0.1", filename="a.jpg", stream_id="s1",
                           sequence=1)
    headers = dict(event.headers())
    key = b"cam\x0028" if header == "key" else event.key()
    if header != "key":
        headers[header] = headers[header][:1] + b"\x1b" + headers[header][1:]
    with pytest.raises(FrameEventError, match="control character"):
        FrameEvent.from_record(key, event.jpeg, list(headers.items()))
    for timestamp in (-1, MAX_TIMESTAMP_US + 1):
        with pytest.raises(FrameEventError, match="out of range"):
            FrameEvent.from_record(event.key(), event.jpeg, [*event.headers(), ("timestamp-us", str(timestamp).encode())])
    for frame_id in ("x" * 3000, "../" + event.frame_id[3:], event.frame_id.lower(), event.frame_id + "\x00"):
        with pytest.raises(FrameEventError, match="not a ULID"):  # object keys and index entries have a size limit
            FrameEvent.from_record(event.key(), event.jpeg, [*event.headers(), ("frame-id", frame_id.encode())])
    assert FrameEvent.from_record(event.key(), event.jpeg, event.headers()) == event


def _records(camera: str, count: int, **bad: object) -> list[FrameRecord]:
    return [FrameRecord(frame_id=f"{camera}-{n:04d}", camera=camera, timestamp_us=1_790_000_000_000_000 + n,
                        size=100, width=64, height=48, source="http", object_key=f"{camera}/{n}.jpg",
                        thumbnail_key=f"{camera}/{n}.thumb.jpg", **bad) for n in range(count)]  # type: ignore[arg-type]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_rows_the_database_refuses_are_singled_out_and_the_rest_indexed(
        request: pytest.FixtureRequest, database: str, tmp_path: Path, unique_name: str) -> None:
    """Values the database itself refuses (the worker refuses names with control
    characters and odd frame ids before): a size beyond 64 bits, refused by both
    databases' drivers, and on PostgreSQL a NUL in the file name and a key too large for
    an index entry (an OperationalError there, but a property of the value). One
    transaction for the batch, bisection only when refused."""
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else f"sqlite:///{tmp_path / 'i.sqlite'}"
    good = _records(unique_name, 37)
    bad = [replace(_records(f"{unique_name}-big", 1)[0], size=2**63)]
    if database == "postgresql":
        bad.append(replace(_records(f"{unique_name}-nul", 1)[0], filename="nul\x00byte.jpg"))
        huge_id = f"{unique_name}-{secrets.token_hex(8000)}"  # over the size of a B-tree entry
        bad.append(replace(_records(f"{unique_name}-huge", 1)[0], frame_id=huge_id))
    index = FrameIndex.open(url)
    try:
        batch = [*good[:11], bad[0], *good[11:30], *bad[1:], *good[30:]]
        outcome = add_to_index(index, batch)
        assert [row.frame_id for row, _ in outcome.refused] == [row.frame_id for row in bad]
        assert all(reason for _, reason in outcome.refused)
        assert outcome.inserted == len(good) and index.totals(unique_name)[0] == len(good)
        assert add_to_index(index, batch).inserted == 0  # a redone batch adds nothing twice
    finally:
        index.close()


# -- finding 11: deleting a camera deletes its frames -----------------------------------------

@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_deleting_a_camera_through_the_api_removes_its_objects_and_index_rows(
        request: pytest.FixtureRequest, database: str, kafka_bootstrap: str, s3_endpoint: harness.S3Endpoint,
        tmp_path: Path, stack: ExitStack) -> None:
    if database == "postgresql":
        server = request.getfixturevalue("postgres_url")
        database_url, name = new_postgres_database(server)
        stack.callback(drop_postgres_database, server, name)
    else:
        database_url = f"sqlite:///{tmp_path / 'sensr.sqlite'}"
    env = stack_env(kafka_bootstrap, s3_endpoint, database_url, tmp_path / "data", SENSR_CATALOG_PURGE_SECONDS="2",
                    SENSR_SEGMENT_MAX_AGE_S=str(SEGMENT_AGE_S))
    start_group_at_end(kafka_bootstrap, env["SENSR_CATALOG_GROUP_ID"])  # earlier tests' frames are not ours
    services = start_stack(env, tmp_path, edges=True)
    stack.callback(services.stop)
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    stack.callback(index.close)
    account = sign_up(services)
    cameras = [account.session.post(services.api("/cameras"), json={"name": name}, timeout=30).json()
               for name in ("Kept", "Deleted")]
    kept, deleted = (camera["username"] for camera in cameras)
    for camera in cameras:
        url, auth = f"{services.ingest_url}/photo/{camera['username']}", (camera["username"], camera["password"])
        harness.eventually(lambda: requests.put(url, data=make_jpeg(seed=0), auth=auth, timeout=10).status_code == 200,
                           what="ingest_http knows the camera")
        for n in range(1, 6):
            assert requests.put(url, data=make_jpeg(seed=n), auth=auth, timeout=30).status_code == 200
    harness.eventually(lambda: index.totals(kept)[0] == index.totals(deleted)[0] == 6, 90, what="frames indexed")
    client, bucket = s3_client(env), env["SENSR_S3_BUCKET"]
    wait_until_sealed(index, [kept, deleted])
    assert object_names(client, bucket, deleted)
    assert set(object_names(client, bucket, deleted)) == stored_keys(all_rows(index, deleted))
    for camera in (kept, deleted):  # activity as the activity worker records it
        frames = index.page(camera).frames
        index.add_scores([FrameScore(f.frame_id, camera, f.timestamp_us, 9.0, moving=True) for f in frames])
        index.save_events([EventRecord(Transition.END, Event(
            f"{camera}-event", camera, frames[0].timestamp_us, frames[-1].timestamp_us, 6, 6, 9.0, frames[0].frame_id))])

    response = account.session.delete(services.api(f"/cameras/{cameras[1]['id']}"), timeout=30)
    assert response.status_code == 204, response.text
    harness.eventually(lambda: not object_names(client, bucket, deleted) and index.totals(deleted)[0] == 0
                       and not index.page(deleted).frames and not index.events_page(deleted).events,
                       60, what="the deleted camera's frames and events purged")
    assert index.totals(kept)[0] == 6
    assert set(object_names(client, bucket, kept)) == stored_keys(all_rows(index, kept))
    assert len(index.events_page(kept).events) == 1 and index.activity_counts(kept, 0, 2**62)


def test_a_deletion_missed_while_the_worker_was_down_is_purged_at_start_up(
        env: dict[str, str], kafka_bootstrap: str, unique_name: str, workers: Callable[..., Worker]) -> None:
    """Also: frames of the camera still in sensr.frames after its deletion are dead-lettered,
    and a frame written after the purge (vetted before the deletion) is purged later."""
    camera, other = unique_name, f"{unique_name}-other"
    register_camera(kafka_bootstrap, camera, "pw")
    register_camera(kafka_bootstrap, other, "pw")
    first = workers(env)
    stored = frames_for(camera, 20)
    produce(kafka_bootstrap, [*stored, *frames_for(other, 3)])
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    client, bucket = s3_client(env), env["SENSR_S3_BUCKET"]
    try:
        wait_for("frames stored", lambda: index.totals(camera)[0] == 20 and index.totals(other)[0] == 3)
        assert first.terminate() == 0
        delete_camera(kafka_bootstrap, camera)
        late = frames_for(camera, 4, start_seed=30)
        produce(kafka_bootstrap, late)
        dlq = Tail(kafka_bootstrap, FRAMES_DLQ)
        workers(env, SENSR_CATALOG_PURGE_SECONDS="2")
        wait_for("purged at start-up", lambda: index.totals(camera)[0] == 0 and not object_names(client, bucket, camera))
        letters = dead_letters(dlq, camera, {e.frame_id for e in late})
        dlq.close()
        assert set(letters) == {e.frame_id for e in late}
        assert {h["dlq-kind"] for found in letters.values() for h in found} == {b"unknown_camera"}
        assert not object_names(client, bucket, camera) and index.totals(other)[0] == 3

        # A frame another replica had vetted before the deletion, written after the purge:
        # the next round removes it.
        straggler = frames_for(camera, 1, start_seed=40)[0]
        keys = object_keys(camera, straggler.timestamp_us, straggler.frame_id)
        for key in keys:
            client.put_object(bucket, key, io.BytesIO(straggler.jpeg), len(straggler.jpeg))
        index.add([FrameRecord(straggler.frame_id, camera, straggler.timestamp_us, len(straggler.jpeg), 160, 120,
                               "http", *keys)])
        wait_for("the straggler purged", lambda: index.totals(camera)[0] == 0 and not object_names(client, bucket, camera))
        assert index.totals(other)[0] == 3
    finally:
        index.close()
