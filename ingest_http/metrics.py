"""Prometheus metrics of ingest_http (served at /metrics by `sensr.health`). What the edges
share (frames published, acknowledgement latency, frames in flight) is
`sensr.publisher`'s, labelled edge="http"."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

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
