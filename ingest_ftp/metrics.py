"""Prometheus metrics of ingest_ftp (served at /metrics on the ops side port by `sensr.health`).
What the edges share (frames published, acknowledgement latency, frames in flight, late
acknowledgements) is `sensr.publisher`'s, labelled edge="ftp"."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

REUPLOADS = Counter("sensr_ingest_ftp_reuploads",
                    "Uploads answered 226 without publishing: the same file name and bytes were published lately.")
REJECTS = Counter("sensr_ingest_ftp_rejects",
                  "Uploads answered with an error, by reason (not_jpeg, empty, truncated, too_large, "
                  "multiple_frames, too_many_pixels, unsupported, bad_name, rate_limited, aborted, "
                  "connection_lost, revoked, kafka_error, kafka_timeout).",
                  ["reason"])
LOGINS = Counter("sensr_ingest_ftp_logins", "Login attempts by result (ok, unknown_camera, bad_password, disabled, "
                 "camera_sessions).", ["result"])
SESSIONS = Gauge("sensr_ingest_ftp_sessions", "FTP control connections open now.")
DATA_CONNECTIONS = Gauge("sensr_ingest_ftp_data_connections", "FTP data connections open now.")
UPLOAD_BYTES = Counter("sensr_ingest_ftp_upload_bytes", "Bytes received on data connections into uploads "
                       "(kept or not).")
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
