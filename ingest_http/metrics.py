"""Prometheus metrics of ingest_http (served at /metrics by `sensr.ops`)."""

from __future__ import annotations

from functools import cache

from prometheus_client import Counter, Gauge, Histogram

FRAMES = Counter("sensr_ingest_http_frames", "Frames acknowledged by Kafka, by source (http: photo, mjpeg: stream).",
                 ["source"])
FRAME_BYTES = Counter("sensr_ingest_http_frame_bytes", "JPEG bytes acknowledged by Kafka, by source.", ["source"])
REJECTS = Counter("sensr_ingest_http_rejects",
                  "Refused upload requests by reason (unauthorized, bad_password, unknown_camera, disabled, "
                  "login_revoked, bad_camera_name, too_large, too_many_pixels, unsupported, not_jpeg, truncated, "
                  "empty, multiple_frames, kafka_unavailable, not_ready, too_many_failed_logins, "
                  "method_not_allowed), and stream frames dropped as frame_too_large, frame_too_many_pixels, "
                  "frame_unsupported or frame_not_jpeg.",
                  ["reason"])
PUBLISH_FAILURES = Counter("sensr_ingest_http_publish_failures",
                           "Frames Kafka did not acknowledge in time (their uploads were answered 503).")
PRODUCE_SECONDS = Histogram("sensr_ingest_http_produce_seconds",
                            "Seconds from a frame's Sensr timestamp (body checked, or frame split out of a stream) "
                            "to Kafka's acknowledgement, by source.",
                            ["source"],
                            buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10))
IN_FLIGHT = Gauge("sensr_ingest_http_in_flight_frames", "Frames handed to the producer and not yet acknowledged.")
STREAMS = Gauge("sensr_ingest_http_streams", "MJPEG upload streams open now.")
STREAM_DISCARDED_BYTES = Counter("sensr_ingest_http_stream_discarded_bytes",
                                 "Stream bytes that became no frame: skipped (boundaries, junk), truncated "
                                 "(a frame cut off at the end), oversized (frames over the size limit).", ["kind"])
SLOWED_LOGINS = Counter("sensr_ingest_http_slowed_logins",
                        "Upload requests held back because their address failed to log in too often.")


@cache
def acknowledged(source: str) -> tuple[Histogram, Counter, Counter]:
    """The latency histogram and frame and byte counters of one source (labels resolved
    once: this runs for every acknowledged frame)."""
    return PRODUCE_SECONDS.labels(source), FRAMES.labels(source), FRAME_BYTES.labels(source)
