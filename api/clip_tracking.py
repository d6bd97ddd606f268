"""The api's background work for clips, each in a daemon thread:

- `ProgressRecorder` writes the clip workers' reports (`sensr.clip-progress`) to
  `api_clips` (`ClipService.apply`), as a member of the group
  `SENSR_CLIP_PROGRESS_GROUP_ID` that the api replicas share: each report is written
  once, and an offset is committed only after its reports are in the database, so a
  restart loses none. (The live relay of the same reports to browsers is a separate,
  group-less feed: `api.live.Fanout`.)
- `ClipSweeper`, every `SENSR_CLIP_SWEEP_SECONDS`: clip retention, clips of deleted
  cameras, and the daily time-lapses of the days just ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from api.clips import ClipService
from sensr.broker import CLIP_PROGRESS
from sensr.clips import ClipContractError, ClipProgress
from sensr.logs import get_logger

log = get_logger(__name__)
RETRY_SECONDS = 2.0


class ProgressRecorder:
    def __init__(self, open_consumer: Callable[[], KafkaConsumer], clips: ClipService) -> None:
        self._open_consumer, self._clips = open_consumer, clips
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clip-progress", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as error:  # Kafka or the database away: say so, start again from the last commit
                log.warning("clip_progress_retry", error=str(error))
                self._stop.wait(RETRY_SECONDS)

    def _follow(self) -> None:
        consumer = self._open_consumer()
        try:
            consumer.subscribe([CLIP_PROGRESS])
            while not self._stop.is_set():
                offsets: dict[TopicPartition, OffsetAndMetadata] = {}
                for partition, records in consumer.poll(timeout_ms=500).items():
                    for record in records:
                        try:
                            self._clips.apply(ClipProgress.decode(record.key, record.value))
                        except ClipContractError as error:
                            log.warning("clip_progress_unreadable", offset=record.offset, error=str(error))
                        offsets[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
                if offsets:
                    consumer.commit(offsets)
        finally:
            consumer.close(autocommit=False)


class ClipSweeper:
    def __init__(self, clips: ClipService, interval: float) -> None:
        self._clips, self._interval = clips, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clip-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                removed = self._clips.sweep()
                made = self._clips.make_daily()
                if removed or made:
                    log.info("clip_sweep", removed=removed, daily_made=len(made))
            except Exception as error:  # the database, store or Kafka away: the next round tries again
                log.warning("clip_sweep_failed", error=str(error))
            self._stop.wait(self._interval)
