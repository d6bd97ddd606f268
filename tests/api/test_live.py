"""Live view: `live.mjpg` shows frames uploaded through the real ingest_http, in order,
to every viewer; `/events` announces frames the real catalog_worker stored; the shared
feed has one consumer for all viewers and drops a slow viewer's oldest frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import requests

from api.live import Fanout, Subscription
from sensr.broker import FRAMES, make_consumer, make_producer
from sensr.frames import FrameEvent
from sensr.settings import CoreSettings, KafkaSettings
from tests.support.jpegs import make_jpeg
from tests.support.api import ApiStack, create_camera, sign_up
from tests.support.streams import mjpeg_parts, sse_events
from tests.support.ui import sign_up as ui_sign_up


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Live view does not depend on the database kind: SQLite only."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'sensr.sqlite'}"


def test_live_mjpeg_shows_uploaded_frames_in_order_to_every_viewer(edge_stack: ApiStack) -> None:
    owner = sign_up(edge_stack)
    camera, other = create_camera(edge_stack, owner), create_camera(edge_stack, owner)
    live_url = edge_stack.api(f"/cameras/{camera['id']}/live.mjpg")
    frames = [make_jpeg(64, 48, seed=100 + n) for n in range(8)]
    with requests.get(live_url, headers=owner.session.headers, stream=True, timeout=30) as first, \
            requests.get(live_url, headers=owner.session.headers, stream=True, timeout=30) as second:
        assert first.status_code == second.status_code == 200
        assert first.headers["Content-Type"].startswith("multipart/x-mixed-replace; boundary=")
        viewers = [mjpeg_parts(first), mjpeg_parts(second)]
        assert requests.put(other["upload_urls"]["photo"], data=make_jpeg(seed=99), timeout=30).status_code == 200
        pushed = requests.post(camera["upload_urls"]["mjpeg"], data=iter(frames), timeout=30)
        assert pushed.status_code == 200, pushed.text
        for viewer in viewers:
            received = [next(viewer) for _ in frames]
            assert [body for _, body in received] == frames
            stamps = [int(headers["x-timestamp-us"]) for headers, _ in received]
            assert stamps == sorted(stamps)


def test_events_announce_stored_frames(edge_stack: ApiStack) -> None:
    owner = sign_up(edge_stack)
    camera = create_camera(edge_stack, owner)
    events_url = edge_stack.api(f"/cameras/{camera['id']}/events")
    with requests.get(events_url, headers=owner.session.headers, stream=True, timeout=30) as events:
        assert events.status_code == 200 and events.headers["Content-Type"].startswith("text/event-stream")
        uploaded = requests.put(camera["upload_urls"]["photo"], data=make_jpeg(80, 60, seed=5), timeout=30)
        assert uploaded.status_code == 200
        event = next(sse_events(events))
    frame = json.loads(event["data"])
    assert event["event"] == "frame" and event["id"] == frame["id"]
    assert (frame["camera_id"], frame["width"], frame["height"]) == (camera["id"], 80, 60)
    listed = owner.session.get(edge_stack.api(f"/cameras/{camera['id']}/frames/latest"), timeout=30).json()
    assert listed == frame


def test_the_live_wall_stream_of_a_user_without_cameras_stays_open(edge_stack: ApiStack) -> None:
    visitor, _ = ui_sign_up(edge_stack)
    with visitor.session.get(visitor.url("/live/events"), stream=True, timeout=(30, 2)) as events:
        assert events.status_code == 200 and events.headers["Content-Type"].startswith("text/event-stream")
        chunks = events.iter_content(chunk_size=None)
        assert next(chunks).startswith(b"retry: 3000")
        with pytest.raises(requests.exceptions.ConnectionError, match="timed out"):  # open, waiting: not ended
            next(chunks)


def test_live_needs_read_access(edge_stack: ApiStack) -> None:
    owner, stranger = sign_up(edge_stack), sign_up(edge_stack)
    camera = create_camera(edge_stack, owner)
    for path in ("live.mjpg", "events"):
        url = edge_stack.api(f"/cameras/{camera['id']}/{path}")
        assert stranger.session.get(url, timeout=30).status_code == 404
        assert requests.get(url, timeout=30).status_code == 404


def test_one_consumer_serves_every_viewer(kafka_bootstrap: str, unique_name: str) -> None:
    core, kafka = CoreSettings(), KafkaSettings(kafka_bootstrap=kafka_bootstrap)
    consumers = []

    def open_consumer() -> Any:
        consumers.append(make_consumer(core, kafka, group_id=None, auto_offset_reset="latest", fetch_max_wait_ms=100))
        return consumers[-1]

    async def watch() -> tuple[list[list[FrameEvent | None]], int]:
        feed = Fanout("test", FRAMES, open_consumer, FrameEvent.from_record, capacity=16)
        subs = [feed.subscribe(unique_name) for _ in range(3)]
        await asyncio.wait_for(asyncio.gather(*(sub.ready.wait() for sub in subs)), 30)
        producer = make_producer(core, kafka)
        for n in range(5):
            for camera in (unique_name, unique_name + "-other"):
                event = FrameEvent.new(camera, make_jpeg(seed=n), "http")
                producer.send(FRAMES, key=event.key(), value=event.jpeg, headers=event.headers())
        producer.flush()
        producer.close()
        got = [[await asyncio.wait_for(sub.next(), 30) for _ in range(5)] for sub in subs]
        for sub in subs:
            feed.unsubscribe(sub)
        feed.stop()
        return got, len(consumers)

    got, opened = asyncio.run(watch())
    assert opened == 1
    for events in got:
        assert [event.jpeg if event else None for event in events] == [make_jpeg(seed=n) for n in range(5)]


def test_a_slow_viewer_skips_the_oldest_frames() -> None:
    async def fall_behind() -> tuple[list[bytes | None], bytes | None, bytes | None]:
        sub: Subscription[bytes] = Subscription("cam", capacity=30, feed="test", weigh=len)
        for n in range(10):
            sub.offer(bytes([n]) * 10)  # 100 bytes offered, 30 fit: the last three frames
        kept = [await sub.next() for _ in range(3)]
        sub.offer(bytes(100))  # heavier than the whole queue: kept, alone
        heavy = await sub.next()
        sub.close()
        return kept, heavy, await sub.next()

    kept, heavy, after_close = asyncio.run(fall_behind())
    assert kept == [bytes([7]) * 10, bytes([8]) * 10, bytes([9]) * 10]
    assert heavy == bytes(100) and after_close is None
