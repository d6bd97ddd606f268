"""The api's services, built once at start-up and shared by every handler (JSON API and
web UI alike), plus the worker pool their blocking calls run in.

Handlers never block the event loop: database, Kafka acknowledgements, password hashing
and object-store reads go through `Services.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import InitVar, dataclass, field
from typing import Any, TypeVar

from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy.exc import DBAPIError

from api.access import AccessPolicy
from api.alerts import AlertRuleService
from api.accounts import AccountService
from api.cameras import CameraService, LoginPublisher
from api.clip_tracking import clip_progress_recorder, clip_sweeper
from api.clips import ClipService, JobPublisher
from api.db import Database, api_error
from api.frame_removal import FrameRemover
from api.images import ObjectReader
from api.live import Fanout
from api.login import LoginFlow, LoginThrottle
from api.shares import ShareService
from api.tokens import TokenService
from api.users import UserService
from sensr.activity import ActivityRecord, decode_activity_record
from sensr.background import BackgroundLoop
from sensr.broker import ACTIVITY, CATALOG, CLIP_PROGRESS, FRAMES, ensure_topics, make_consumer, make_producer, max_record_bytes
from sensr.catalog_event import decode_catalog_event
from sensr.clips import ClipProgress
from sensr.deliveries import DeliveryLog
from sensr.frame_reader import FrameReader
from sensr.kafka_frames import KafkaFrames
from sensr.health import answers
from sensr.frames import FrameEvent
from sensr.index import FrameIndex, FrameRecord
from sensr.lifecycle import kafka_reachable
from sensr.settings import Settings
from sensr.storage import make_s3_client

R = TypeVar("R")
WORKER_THREADS = 16
CATALOG_QUEUE_EVENTS = 1000  # per viewer of /events: small JSON objects
ACTIVITY_QUEUE_RECORDS = 1000  # per viewer of /events: small JSON objects


@dataclass
class Services:
    settings: Settings
    db: Database
    users: UserService
    tokens: TokenService
    cameras: CameraService
    shares: ShareService
    access: AccessPolicy
    index: FrameIndex
    objects: ObjectReader
    removal: FrameRemover
    accounts: AccountService
    frames_feed: Fanout[FrameEvent]
    catalog_feed: Fanout[FrameRecord]
    activity_feed: Fanout[ActivityRecord]
    producer: KafkaProducer
    clips: ClipService
    clips_feed: Fanout[ClipProgress]
    clip_recorder: BackgroundLoop
    clip_sweeper: BackgroundLoop
    executor: ThreadPoolExecutor
    alerts: AlertRuleService
    login_throttle: InitVar[LoginThrottle]
    login: LoginFlow = field(init=False)

    def __post_init__(self, login_throttle: LoginThrottle) -> None:
        self.login = LoginFlow(self.users, login_throttle, self.run)

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Connect to everything and migrate the database. Blocks; raises (leaving nothing
        open) when the database or Kafka cannot be reached. The object store is only
        reached on use."""
        api, core, kafka = settings.api, settings.core, settings.kafka
        with ExitStack() as opened:
            db = Database.open(settings.database_url())
            opened.callback(db.close)
            index = FrameIndex.open(settings.database_url())
            opened.callback(index.close)
            ensure_topics(core, kafka, timeout_ms=kafka.kafka_request_timeout_ms)
            producer = make_producer(core, kafka, client_id="sensr-api")
            opened.callback(producer.close, timeout=5)
            opened.pop_all()
        executor = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="api-worker")
        cameras = CameraService(db, LoginPublisher(producer, timeout=kafka.kafka_request_timeout_ms / 1000))
        shares = ShareService(db)
        s3 = make_s3_client(settings.s3)
        users, tokens = UserService(db, api.min_password_length), TokenService(db, api.token_lifetime_days)

        def live_consumer() -> KafkaConsumer:
            return make_consumer(core, kafka, group_id=None, client_id="sensr-api-live",
                                 auto_offset_reset="latest", fetch_max_wait_ms=100)

        s3 = make_s3_client(settings.s3)
        clips = ClipService(db, index, JobPublisher(producer, kafka.kafka_request_timeout_ms / 1000), s3,
                            settings.s3.s3_bucket, settings.clips)
        recorder = clip_progress_recorder(lambda: make_consumer(
            core, kafka, group_id=settings.clips.clip_progress_group_id, client_id="sensr-api-clips"), clips).start()
        sweeper = clip_sweeper(clips, settings.clips.clip_sweep_seconds).start()
        return cls(
            settings=settings, db=db,
            users=users, tokens=tokens,
            cameras=cameras, shares=shares, access=AccessPolicy(cameras, shares), index=index,
            objects=ObjectReader(FrameReader(s3, settings.s3.s3_bucket, KafkaFrames(
                kafka.kafka_bootstrap, 8, max_record_bytes=max_record_bytes(core))), executor),
            removal=FrameRemover(index, s3, settings.s3.s3_bucket),
            accounts=AccountService(users, tokens, cameras, shares, index),
            frames_feed=Fanout("frames", FRAMES, live_consumer, FrameEvent.from_record, api.live_queue_bytes,
                               weigh=lambda event: len(event.jpeg)),
            catalog_feed=Fanout("catalog", CATALOG, live_consumer, decode_catalog_event, CATALOG_QUEUE_EVENTS),
            producer=producer, executor=executor,
            alerts=AlertRuleService(db, producer, kafka.kafka_request_timeout_ms / 1000, DeliveryLog(index.engine)),
            login_throttle=LoginThrottle.from_settings(api),
            activity_feed=Fanout("activity", ACTIVITY, live_consumer,
                                 lambda key, value, _headers: decode_activity_record(key, value),
                                 ACTIVITY_QUEUE_RECORDS),
            clips=clips, clips_feed=Fanout("clips", CLIP_PROGRESS, live_consumer, ClipProgress.decode,
                                           CATALOG_QUEUE_EVENTS),
            clip_recorder=recorder, clip_sweeper=sweeper,
        )

    async def run(self, function: Callable[..., R], *args: Any) -> R:
        """`function(*args)` in the worker pool, awaited from the event loop. A database
        failure that escapes the services becomes an ApiError where it can (see `api.db.api_error`)."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)
        except DBAPIError as error:
            refusal = api_error(error)
            if refusal is None:
                raise
            raise refusal from None

    def ready(self) -> dict[str, bool]:
        """Whether the database, Kafka and the object store answer (blocks briefly)."""
        kafka = self.settings.kafka.kafka_bootstrap
        return {"database": answers(self.db.ping), "kafka": answers(lambda: kafka_reachable(kafka)),
                "s3": answers(self.objects.ping)}

    def close(self) -> None:
        self.clip_sweeper.stop()
        self.clip_recorder.stop()
        self.clips_feed.stop()
        self.frames_feed.stop()
        self.catalog_feed.stop()
        self.activity_feed.stop()
        self.producer.close(timeout=5)
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.objects.close()
        self.index.close()
        self.db.close()

