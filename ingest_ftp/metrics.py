"""Prometheus metrics of ingest_ftp (served at /metrics on the ops side port by `sensr.ops`).
What the edges share (frames published, acknowledgement latency, frames in flight, late
acknowledgements) is `sensr.publisher`'s, labelled edge="ftp"."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

REUPLOADS = Counter("sensr_ingest_ftp_reuploads",
                    "Uploads answered 226 without publishing: the same file name and bytes were published lately.")
REJECTS = Counter("sensr_ingest_ftp_rejects",
                  "Uploads answered with an error, by reason (not_jpeg, empty, truncated, too_large, "
                  "multiple_frames, rate_limited, aborted, connection_lost, kafka_error, kafka_timeout).",
                  ["reason"])
LOGINS = Counter("sensr_ingest_ftp_logins", "Login attempts by result (ok, unknown_camera, bad_password, disabled, "
                 "camera_sessions).", ["result"])
SESSIONS = Gauge("sensr_ingest_ftp_sessions", "FTP control connections open now.")
PASSIVE_TIMEOUTS = Counter("sensr_ingest_ftp_passive_timeouts",
                           "Passive data connections announced with PASV/EPSV that never arrived (NAT or firewall "
                           "misconfiguration, see the log for the advertised address).")
