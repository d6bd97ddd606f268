"""The whole stack with segments on, the catalog worker SIGKILLed while its segments are
open, twice in a row: the frames acknowledged are exactly the frames listed, with their
bytes (fetched through the api, from Kafka or from a segment), none twice; once the
segments are sealed, every frame's row points at a segment object that exists, and no
object is left that no row points to."""

from __future__ import annotations

import time

import pytest

from sensr.index import FrameIndex
from tests.support.catalog_worker import all_rows, object_names, s3_client
from tests.support.harness import eventually
from tests.support.stack import all_alive, check_exactly_once, new_camera, start_loops, stop_loops, wait_acked
from launcher.service_stack import ServiceStack


@pytest.fixture(scope="module")
def stack_overrides() -> dict[str, str]:
    return {"SENSR_CATALOG_SEGMENTS": "true", "SENSR_SEGMENT_MAX_AGE_S": "6"}


def test_catalog_worker_killed_twice_while_segments_are_open(stack: ServiceStack) -> None:
    user, camera = new_camera(stack)
    loops = start_loops(camera, "segments", "photo", "ftp", "mjpeg", pause=0.03)
    try:
        wait_acked(loops, 8)
        for _ in range(2):  # each kill lands within the 6 s a segment stays open
            stack.kill_service("catalog_worker")
            wait_acked(loops, 3, since=time.monotonic())
            stack.start_service("catalog_worker")
            wait_acked(loops, 5, since=time.monotonic())
    finally:
        stop_loops(loops)
    tally = check_exactly_once(user, camera, loops)
    assert tally.listed == tally.acked, tally
    assert all(loop.failed_count() == 0 for loop in loops), [loop.outcomes() for loop in loops]

    index = FrameIndex.open(stack.setting("database_url"))
    try:
        eventually(lambda: all(row.segment_key for row in all_rows(index, camera.username)), 60, 0.5,
                   what="every frame in a sealed segment")
        rows = all_rows(index, camera.username)
        segments = {segment.segment_key for segment in index.camera_segments(camera.username)}
        objects = set(object_names(s3_client(stack.env), stack.bucket, camera.username))
        pointed = {row.segment_key for row in rows}
        assert pointed <= objects and pointed <= segments
        assert objects <= segments  # every object left is known (stale or emptied ones are the sweep's)
    finally:
        index.close()
    check_exactly_once(user, camera, loops)  # the same bytes once read from the segments
    all_alive(stack)
