"""The api's background work for clips, each a `sensr.background.BackgroundLoop`:

- `clip_progress_recorder` writes the clip workers' reports (`sensr.clip-progress`) to
  `api_clips` (`ClipService.apply`), as a member of the group
  `SENSR_CLIP_PROGRESS_GROUP_ID` that the api replicas share: each report is written
  once, and an offset is committed only after its reports are in the database, so a
  restart loses none. (The live relay of the same reports to browsers is a separate,
  group-less feed: `api.live.Fanout`.)
- `clip_sweeper`, every `SENSR_CLIP_SWEEP_SECONDS`: clip retention, clips of deleted
  cameras, and the daily time-lapses of the days just ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kafka import KafkaConsumer

from api.clips import ClipService
from sensr.background import BackgroundLoop
from sensr.broker import CLIP_PROGRESS, offsets_after
from sensr.clips import ClipContractError, ClipProgress
from sensr.logs import get_logger

log = get_logger(__name__)
RETRY_SECONDS = 2.0


def clip_progress_recorder(open_consumer: Callable[[], KafkaConsumer], clips: ClipService) -> BackgroundLoop:
    """The thread that writes `sensr.clip-progress` to `api_clips` (started by the caller)."""
    def follow(stop: threading.Event) -> None:
        consumer = open_consumer()
        try:
            consumer.subscribe([CLIP_PROGRESS])
            while not stop.is_set():
                records = [record for batch in consumer.poll(timeout_ms=500).values() for record in batch]
                for record in records:
                    try:
                        clips.apply(ClipProgress.decode(record.key, record.value))
                    except ClipContractError as error:
                        log.warning("clip_progress_unreadable", offset=record.offset, error=str(error))
                if records:
                    consumer.commit(offsets_after(records))
        finally:
            consumer.close(autocommit=False)

    # Kafka or the database away: said, then followed again from the last commit
    return BackgroundLoop("clip-progress", follow, RETRY_SECONDS)


def clip_sweeper(clips: ClipService, interval: float) -> BackgroundLoop:
    """The thread that sweeps clips and makes the daily time-lapses every `interval` seconds."""
    def sweep(_stop: threading.Event) -> None:
        removed = clips.sweep()
        made = clips.make_daily()
        if removed or made:
            log.info("clip_sweep", removed=removed, daily_made=len(made))

    return BackgroundLoop("clip-sweep", sweep, interval)  # the database, store or Kafka away: the next round
