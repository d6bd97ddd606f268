"""Prometheus metrics of ingest_ftp (served at /metrics on the ops side port by `sensr.ops`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FRAMES = Counter("sensr_ingest_ftp_frames", "Frames acknowledged by Kafka and answered 226.")
FRAME_BYTES = Counter("sensr_ingest_ftp_frame_bytes", "JPEG bytes acknowledged by Kafka.")
REUPLOADS = Counter("sensr_ingest_ftp_reuploads",
                    "Uploads answered 226 without publishing: the same file name and bytes were published lately.")
REJECTS = Counter("sensr_ingest_ftp_rejects",
                  "Uploads answered with an error, by reason (not_jpeg, empty, truncated, too_large, "
                  "multiple_frames, too_many_pixels, unsupported, bad_name, rate_limited, aborted, "
                  "connection_lost, revoked, kafka_error, kafka_timeout).",
                  ["reason"])
LATE_ACKS = Counter("sensr_ingest_ftp_late_acks",
                    "Frames Kafka acknowledged after the camera had been answered with a timeout error "
                    "(a re-upload of the same file is then answered 226 without a second copy).")
LOGINS = Counter("sensr_ingest_ftp_logins", "Login attempts by result (ok, unknown_camera, bad_password, disabled, "
                 "camera_sessions).", ["result"])
SESSIONS = Gauge("sensr_ingest_ftp_sessions", "FTP control connections open now.")
IN_FLIGHT = Gauge("sensr_ingest_ftp_in_flight_frames", "Frames handed to the producer and not yet acknowledged.")
KAFKA_ACK_SECONDS = Histogram("sensr_ingest_ftp_kafka_ack_seconds",
                              "Seconds from a received file's hand-over to the producer to Kafka's acknowledgement.",
                              buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5,
                                       10))
PASSIVE_TIMEOUTS = Counter("sensr_ingest_ftp_passive_timeouts",
                           "Passive data connections announced with PASV/EPSV that never arrived (NAT or firewall "
                           "misconfiguration, see the log for the advertised address).")
FOREIGN_DATA_CONNECTIONS = Counter("sensr_ingest_ftp_foreign_data_connections",
                                   "Connections to a passive data port from another address than the session's, "
                                   "closed (the session keeps waiting for its own).")
TURNED_AWAY = Counter("sensr_ingest_ftp_turned_away",
                      "Connections closed before logging in, by reason: network (over "
                      "SENSR_FTP_MAX_CONNECTIONS_PER_NETWORK), displaced (made room for a newer one, "
                      "SENSR_FTP_MAX_CONNECTIONS_BEFORE_LOGIN), login_timeout (SENSR_FTP_LOGIN_TIMEOUT).",
                      ["reason"])
REVOKED_SESSIONS = Counter("sensr_ingest_ftp_revoked_sessions",
                           "Sessions ended because the camera's password was changed, or the camera disabled "
                           "or deleted.")
