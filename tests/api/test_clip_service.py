"""`api.clips.ClipService` against a real database, Kafka and SeaweedFS: clip retention,
and the days a daily time-lapse covers."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cameras import CameraService, LoginPublisher
from api.clips import DAY_US, ClipOptions, ClipService, JobPublisher, last_ended_day
from api.db import Database
from api.users import UserService
from launcher.service_stack import S3Endpoint
from sensr.broker import make_producer
from sensr.frames import now_us
from sensr.index import FrameIndex
from sensr.settings import ClipSettings, CoreSettings, KafkaSettings, S3Settings
from sensr.storage import ensure_bucket, make_s3_client


@pytest.fixture
def service(kafka_bootstrap: str, s3_endpoint: S3Endpoint, tmp_path: Path) -> Iterator[tuple[ClipService, CameraService, str]]:
    url = f"sqlite:///{tmp_path / 'api.sqlite'}"
    db, index = Database.open(url), FrameIndex.open(url)
    producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=kafka_bootstrap))
    s3 = make_s3_client(S3Settings(s3_endpoint=s3_endpoint.endpoint, s3_access_key=s3_endpoint.access_key,
                                   s3_secret_key=s3_endpoint.secret_key))
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    ensure_bucket(s3, bucket)
    user = UserService(db, 10).sign_up(f"{uuid.uuid4().hex[:8]}@example.com", "a long enough password")
    cameras = CameraService(db, LoginPublisher(producer, 10))
    clips = ClipService(db, index, JobPublisher(producer, 10), s3, bucket, ClipSettings(clip_retention_days=30))
    yield clips, cameras, user.id
    producer.close()
    index.close()
    db.close()


def test_clips_past_the_retention_are_deleted_with_their_mp4(service: tuple[ClipService, CameraService, str]) -> None:
    clips, cameras, owner = service
    camera = cameras.create(owner, "Yard")
    clip = clips.create(camera, ClipOptions(), since_us=0, until_us=60_000_000)
    mp4 = b"not really an mp4"
    clips._s3.put_object(clips._bucket, clip.object_key, io.BytesIO(mp4), len(mp4))

    assert clips.sweep(now_us() + 29 * DAY_US) == 0
    assert clips.get(camera, clip.id) is not None
    assert clips.sweep(now_us() + 31 * DAY_US) == 1
    assert clips.get(camera, clip.id) is None
    assert not [o for o in clips._s3.list_objects(clips._bucket, prefix=f"{camera.username}/", recursive=True)
                if not o.is_dir]


def test_a_day_ends_at_midnight_in_the_time_zone_and_may_last_25_hours() -> None:
    # 2026-10-25: Paris leaves summer time (a 25-hour day); the 26th at 12:00 UTC is 13:00 in Paris.
    noon_26th = 1_793_016_000_000_000
    day, since, until = last_ended_day(noon_26th, "Europe/Paris")
    assert day == "2026-10-25"
    assert (until - since) == 25 * 3_600_000_000
    assert last_ended_day(noon_26th, "UTC")[0] == "2026-10-25"
    assert last_ended_day(noon_26th, "Pacific/Kiritimati")[0] == "2026-10-26"  # UTC+14: 02:00 on the 27th
