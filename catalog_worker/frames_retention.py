"""The start-up check of segments mode: frames wait in Kafka, not in the object store,
until their segment is sealed, and a worker that dies re-reads them from its last commit.
So `sensr.frames` must keep every frame much longer than the longest seal wait: the
worker refuses to start when the topic's `retention.ms` is below
max(`RETENTION_FACTOR` × SENSR_SEGMENT_MAX_AGE_S, `MIN_RETENTION_MS`).
"""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from sensr.broker import FRAMES
from sensr.logs import get_logger

log = get_logger(__name__)
RETENTION_FACTOR = 100
MIN_RETENTION_MS = 24 * 3_600_000
EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: a configuration error, restarting will not help


class RetentionTooShort(Exception):
    """The frames topic does not keep frames long enough for segments."""


def required_retention_ms(segment_max_age_s: float) -> int:
    return max(int(RETENTION_FACTOR * segment_max_age_s * 1000), MIN_RETENTION_MS)


def frames_retention_ms(bootstrap: str, timeout_ms: int = 30_000) -> int:
    """`retention.ms` of `sensr.frames` as the broker applies it (-1: forever)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms, client_id="sensr-admin")
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, FRAMES, {"retention.ms": None})],
                                           config_filter="all")
    finally:
        admin.close()
    entry = described.get("topic", {}).get(FRAMES, {}).get("retention.ms")
    if entry is None:
        raise RetentionTooShort(f"the broker did not say the retention of {FRAMES}")
    return int(entry["value"])


def check_frames_retention(bootstrap: str, segment_max_age_s: float) -> int:
    """Returns the topic's retention; raises RetentionTooShort (after logging why) when it
    is below what segments need."""
    retention = frames_retention_ms(bootstrap)
    needed = required_retention_ms(segment_max_age_s)
    if 0 <= retention < needed:
        log.error("frames_retention_too_short", topic=FRAMES, retention_ms=retention, required_ms=needed,
                  segment_max_age_s=segment_max_age_s,
                  fix=f"raise retention.ms of {FRAMES} or lower SENSR_SEGMENT_MAX_AGE_S")
        raise RetentionTooShort(f"{FRAMES} keeps frames {retention} ms; segments need at least {needed} ms")
    return retention
