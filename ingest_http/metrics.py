"""Prometheus metrics of ingest_http (served at /metrics by `sensr.ops`). What the edges
share (frames published, acknowledgement latency, frames in flight) is
`sensr.publisher`'s, labelled edge="http"."""

from __future__ import annotations

import time
from functools import cache

from prometheus_client import Counter, Gauge, Histogram

from sensr.frames import FrameEvent

REJECTS = Counter("sensr_ingest_http_rejects",
                  "Refused upload requests by reason (unauthorized, bad_password, unknown_camera, disabled, "
                  "login_revoked, bad_camera_name, too_large, too_many_pixels, unsupported, not_jpeg, truncated, "
                  "empty, multiple_frames, kafka_unavailable, not_ready, too_many_failed_logins, "
                  "method_not_allowed), and stream frames dropped as frame_too_large, frame_too_many_pixels, "
                  "frame_unsupported or frame_not_jpeg.",
                  ["reason"])
STREAMS = Gauge("sensr_ingest_http_streams", "MJPEG upload streams open now.")
STREAM_DISCARDED_BYTES = Counter("sensr_ingest_http_stream_discarded_bytes",
                                 "Stream bytes that became no frame: skipped (boundaries, junk), truncated "
                                 "(a frame cut off at the end), oversized (frames over the size limit).", ["kind"])
SLOWED_LOGINS = Counter("sensr_ingest_http_slowed_logins",
                        "Upload requests held back because their address failed to log in too often.")

# Deprecated: the same counts as sensr_frames_published_total{edge="http",outcome="stored"},
# sensr_frames_published_bytes_total and sensr_frame_ack_seconds, kept under their old
# names until the dashboards and tests/test_ingest_http.py that read them have moved.
FRAMES = Counter("sensr_ingest_http_frames", "Deprecated, see sensr_frames_published_total{edge=\"http\"}: frames "
                 "acknowledged by Kafka, by source (http: photo, mjpeg: stream).", ["source"])
FRAME_BYTES = Counter("sensr_ingest_http_frame_bytes", "Deprecated, see sensr_frames_published_bytes_total: JPEG "
                      "bytes acknowledged by Kafka, by source.", ["source"])
PRODUCE_SECONDS = Histogram("sensr_ingest_http_produce_seconds",
                            "Deprecated, see sensr_frame_ack_seconds: seconds from a frame's Sensr timestamp to "
                            "Kafka's acknowledgement, by source.", ["source"],
                            buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10))


def acknowledged(event: FrameEvent) -> None:
    """Count `event`, just acknowledged, in the deprecated per-edge metrics."""
    latency, frames, frame_bytes = _children(event.source)
    latency.observe(max(time.time() - event.timestamp_us / 1e6, 0.0))
    frames.inc()
    frame_bytes.inc(len(event.jpeg))


@cache
def _children(source: str) -> tuple[Histogram, Counter, Counter]:
    """The children of one source (labels resolved once: this runs for every frame)."""
    return PRODUCE_SECONDS.labels(source), FRAMES.labels(source), FRAME_BYTES.labels(source)
