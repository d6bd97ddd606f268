"""Every Sensr setting, read from `SENSR_...` environment variables in this one place.

Each section is a pydantic-settings model: values are parsed and validated from the
environment, and the field descriptions are the documentation (the README's settings
table is generated from them with `sensr settings`). Services call `load_settings()`
once at start-up and pass the pieces they need down.
"""

from __future__ import annotations

from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sensr.frame_check import DEFAULT_MAX_FRAME_PIXELS

MIB = 1024 * 1024


class _Section(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENSR_", frozen=True, extra="ignore")


class CoreSettings(_Section):
    data_dir: Path = Field(Path("data"), description="Folder for local state: SQLite index, native infrastructure data, logs.")
    public_host: str = Field("127.0.0.1", description="Host name cameras use to reach the ingest edges (shown as HOST in a camera's login).")
    max_frame_bytes: int = Field(16 * MIB, description="Largest accepted JPEG frame in bytes (photo, FTP file, or one frame of a stream).")
    max_frame_pixels: int = Field(DEFAULT_MAX_FRAME_PIXELS, description="Largest accepted JPEG frame in pixels (width x height from its header); larger frames are refused at the edge (413 / FTP 552), since decoding them costs memory in proportion.")
    log_level: str = Field("INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    log_format: str = Field("json", description="Log rendering: `json` (one object per line) or `console` (human-readable).")
    dependency_wait_max_seconds: float = Field(10.0, gt=0, description="Longest pause between attempts to reach a dependency a service waits for at start-up (Kafka, the object store, the index database, the camera table); the pause doubles from 0.5 s up to this, with jitter.")


class KafkaSettings(_Section):
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated host:port.")
    frames_partitions: int = Field(6, description="Partitions of `sensr.frames` when Sensr creates it (bounds catalog-worker parallelism).")
    kafka_request_timeout_ms: int = Field(10_000, description="How long a produce may wait for the broker's acknowledgement before the upload is refused (503/4xx).")


class S3Settings(_Section):
    s3_endpoint: str = Field("127.0.0.1:8333", description="S3 endpoint host:port (SeaweedFS, MinIO, Ceph, AWS...).")
    s3_access_key: str = Field("sensr", description="S3 access key.")
    s3_secret_key: str = Field("sensr-secret-key", description="S3 secret key.")
    s3_bucket: str = Field("sensr", description="Bucket holding originals and thumbnails (created at start-up if missing).")
    s3_secure: bool = Field(False, description="Use HTTPS to reach the S3 endpoint.")
    s3_region: str | None = Field(None, description="S3 region, if the server needs one.")


class DatabaseSettings(_Section):
    database_url: str = Field("", description="Index database: `sqlite:///path/to/index.sqlite` or `postgresql://user:pass@host:port/db`. Empty: SQLite file `index.sqlite` in the data folder.")


class HttpIngestSettings(_Section):
    http_host: str = Field("127.0.0.1", description="ingest_http listen address.")
    http_port: int = Field(8080, description="ingest_http port: photo upload, MJPEG push, /healthz, /readyz, /metrics.")
    http_idle_timeout: float = Field(60.0, description="Seconds a request body (photo or MJPEG stream) may stay silent before the connection is closed; a stream has no limit on its total length.")
    http_header_timeout: float = Field(10.0, description="Seconds a client has to send a request's headers, counted from when the connection opens or its previous response ends (so it also closes idle keep-alive connections).")
    auth_failure_limit: int = Field(10, description="Failed upload logins per client address per minute before further attempts are slowed down.")
    auth_failure_delay: float = Field(2.0, description="Once an address is over `SENSR_AUTH_FAILURE_LIMIT`, its upload requests are let through one per this many seconds; one that would wait over 10 times this gets 429.")
    http_stream_in_flight_bytes: int = Field(8 * MIB, description="Bytes of one MJPEG stream's frames that may await Kafka's acknowledgement before reading from that client pauses (flow control).")


class FtpIngestSettings(_Section):
    ftp_host: str = Field("127.0.0.1", description="ingest_ftp listen address.")
    ftp_port: int = Field(2121, description="ingest_ftp control port.")
    ftp_passive_ports: str = Field("30000-30049", description="Passive data port range, `low-high`.")
    ftp_masquerade_address: str | None = Field(None, description="Address advertised in PASV replies (the public address behind NAT).")
    ftp_ops_port: int = Field(8021, description="ingest_ftp side HTTP port for /healthz, /readyz and /metrics.")
    ftp_tls_cert: Path | None = Field(None, description="PEM certificate (with key, or see SENSR_FTP_TLS_KEY) enabling explicit FTPS (AUTH TLS).")
    ftp_tls_key: Path | None = Field(None, description="PEM private key for FTPS, if not inside the certificate file.")
    ftp_tls_required: bool = Field(False, description="Refuse logins on connections that did not switch to TLS, and data connections without TLS (PROT P).")
    ftp_reupload_window: float = Field(600.0, description="Seconds within which a re-upload of the same file name and bytes is acknowledged but not published again.")
    ftp_max_connections_per_ip: int = Field(20, description="Simultaneous FTP connections allowed from one address.")
    ftp_max_connections_per_camera: int = Field(10, description="Simultaneous FTP sessions allowed per camera login.")
    ftp_max_frames_per_second: float = Field(30.0, description="Per-camera upload rate limit, frames per second.")
    ftp_idle_timeout: float = Field(300.0, description="Seconds an idle FTP control connection is kept.")
    ftp_data_timeout: float = Field(30.0, description="Seconds a data connection may stall, and that a passive (or active) data connection has to be established.")
    ftp_max_connections: int = Field(1024, description="Sockets ingest_ftp holds at once (control and data connections, passive listeners); past it new connections get 421.")
    ftp_max_connections_per_network: int = Field(100, description="Simultaneous FTP control connections allowed from one network (/24 for IPv4, /64 for IPv6); past it new ones get 421. 0: no limit.")
    ftp_max_connections_before_login: int = Field(256, description="FTP connections that have not logged in yet, held at once (the rest of SENSR_FTP_MAX_CONNECTIONS stays for logged-in cameras); when full, the oldest such connection of the network with the most of them is closed to let a new one in.")
    ftp_login_timeout: float = Field(30.0, description="Seconds a new FTP connection has to log in before it is closed.")
    ftp_auth_failure_limit: int = Field(5, description="Failed FTP logins per client address per minute answered at once; further 530 replies wait SENSR_FTP_AUTH_FAILURE_DELAY.")
    ftp_auth_failure_delay: float = Field(3.0, description="Seconds a failed FTP login's 530 reply waits once its address is over SENSR_FTP_AUTH_FAILURE_LIMIT.")


class CatalogSettings(_Section):
    catalog_ops_host: str = Field("127.0.0.1", description="catalog_worker side HTTP address for /healthz, /readyz and /metrics.")
    catalog_ops_port: int = Field(8091, description="catalog_worker side HTTP port for /healthz, /readyz and /metrics (0: pick a free port).")
    catalog_group_id: str = Field("catalog", description="Kafka consumer group the catalog_worker replicas share.")
    catalog_session_timeout_ms: int = Field(45_000, description="How long the group waits for a silent catalog_worker replica (crashed, cut off) before giving its partitions to the others.")
    catalog_batch_size: int = Field(200, description="Most frames stored and indexed per batch (one index transaction, one offset commit).")
    catalog_upload_threads: int = Field(16, description="Concurrent object writes per worker.")
    catalog_decode_budget_bytes: int = Field(512 * MIB, description="Memory the catalog_worker's thumbnail decodes may hold at once, as estimated from each frame's header (a progressive JPEG keeps all its DCT coefficients at full size, 2 bytes per sample; any JPEG its image at reduced scale); a decode waits until its estimate fits, and a frame over the whole budget is decoded alone.")
    thumbnail_width: int = Field(320, description="Thumbnail width in pixels (height keeps the aspect ratio).")
    retention_days: int = Field(30, description="Days a frame is kept when its camera sets no retention of its own.")
    retention_sweep_seconds: float = Field(300.0, description="Seconds between retention sweeps.")
    catalog_purge_seconds: float = Field(60.0, description="Seconds between checks that deleted cameras have no objects or index rows left (each deletion is also acted on as soon as the worker reads it); frames of a deleted camera still in flight are removed by the next check.")
    catalog_retry_max_seconds: float = Field(30.0, description="Longest pause between retries while the object store, index database or Kafka is unavailable (the wait doubles from 0.5 s up to this).")
    reupload_window: float = Field(600.0, ge=0, description="Seconds within which identical bytes from the same camera are stored once, whichever edge they came through (by Sensr timestamp, counted from the last copy kept): a camera sends a frame again when its upload was refused or its answer lost, and the first copy may have been stored anyway. Applied by the catalog worker, where every path meets, and kept in the index across restarts; 0 turns it off. ingest_ftp's SENSR_FTP_REUPLOAD_WINDOW is a narrower, per-process memory (same file name and bytes) that only spares Kafka the second copy; keep it no longer than this.")
    catalog_segments: bool = Field(True, description="Pack each camera's frames (originals and thumbnails) into segment objects, sealed by age or size, instead of two objects per frame; frames are listed and served from Kafka until their segment is sealed (see Segments).")
    segment_max_age_s: float = Field(60.0, gt=0, description="With segments: seconds after its first frame that a camera's open segment is sealed (written to the object store). The frames topic's retention must exceed it by far: the worker refuses to start below max(100 × this, 24 h).")
    segment_max_bytes: int = Field(8 * MIB, gt=0, description="With segments: bytes (originals and thumbnails) at which a camera's open segment is sealed early; the worker holds at most 32 × this in open segments, sealing the largest beyond that.")
    catalog_camera_sync_seconds: float = Field(10.0, description="How long a frame of a camera missing from the camera table waits for the table to catch up with `sensr.cameras` before the batch is retried (a camera is declared unknown only once the table has caught up).")


class ApiSettings(_Section):
    api_host: str = Field("127.0.0.1", description="api listen address.")
    api_port: int = Field(8000, description="api port: JSON API, web UI, /healthz, /readyz, /metrics.")
    api_header_timeout: float = Field(10.0, description="Seconds a client has to send a request's headers to the api, counted from when the connection opens or its previous response ends (so it also closes idle keep-alive connections).")
    api_body_timeout: float = Field(30.0, description="Seconds a client has to send a request's body to the api (at most 1 MiB: JSON or a form).")
    api_max_connections_per_address: int = Field(64, description="Connections one client address may hold open to the api at once; more are answered 503 and closed. 0: no limit (behind a reverse proxy, where every client has the proxy's address).")
    cookie_secret: str = Field("", description="Secret signing the web UI's session cookies; empty: generated and kept in the data folder.")
    public_url: str = Field("", description="Base URL of the api as users reach it, for the links it hands out (share links); empty: `http://<SENSR_PUBLIC_HOST>:<SENSR_API_PORT>`, with a warning at start-up. Never taken from a request's Host header.")
    secure_cookies: bool = Field(False, description="Mark session cookies Secure (set when served over HTTPS).")
    min_password_length: int = Field(10, description="Shortest password a user may sign up with.")
    token_lifetime_days: int = Field(30, description="Days an api bearer token stays valid after login.")
    login_failures_per_address: int = Field(20, description="Failed api logins from one client address (to any accounts) before its further attempts must wait (429 with Retry-After); see SENSR_LOGIN_FAILURE_DELAY.")
    login_failures_per_address_account: int = Field(5, description="Failed api logins from one client address to one account before its further attempts at that account must wait. Accounts are never locked: the owner logging in from another address is not slowed.")
    login_failure_delay: float = Field(1.0, description="Seconds the first failure past a limit makes its address (or address and account) wait before the next login attempt; each further failure doubles it.")
    login_failure_max_delay: float = Field(900.0, description="Longest wait between login attempts that failures can impose.")
    login_failure_window: float = Field(900.0, description="Seconds without a failed login after which an address's (or address and account's) failures are forgotten.")
    live_queue_bytes: int = Field(8 * MIB, description="Bytes of frames buffered per live viewer; a viewer that falls further behind skips the oldest frames (the newest is always kept).")
    zip_max_frames: int = Field(200_000, description="Most frames one zip download may hold (the api keeps about half a kilobyte per frame while it streams one: the zip's central directory).")


class NotifierSettings(_Section):
    smtp_host: str = Field("", description="SMTP server the notifier sends alert e-mails through; empty: no e-mail alerts.")
    smtp_port: int = Field(587, description="SMTP server port (587 for STARTTLS, 465 for implicit TLS, 25 for plain).")
    smtp_security: Literal["starttls", "tls", "plain"] = Field("starttls", description="How the SMTP connection is protected: `starttls` (upgrade after connecting; refused if the server does not offer it), `tls` (TLS from the first byte), or `plain` (none: only for a relay on the same host).")
    smtp_username: str = Field("", description="SMTP login name; empty: send without logging in.")
    smtp_password: str = Field("", description="SMTP login password.")
    smtp_from: str = Field("", description="From address of alert e-mails, e.g. `Sensr <alerts@example.org>`; empty: `sensr@<SENSR_PUBLIC_HOST>`.")
    smtp_timeout: float = Field(30.0, description="Seconds the SMTP server may take to accept the connection or to answer any one command before the e-mail counts as not sent.")
    notifier_ca_file: Path | None = Field(None, description="PEM file of the certificate authorities the notifier trusts for the SMTP server's and webhook receivers' certificates (a private CA); empty: the system's.")
    notifier_timeout: float = Field(10.0, description="Seconds one webhook or push-service call may take (connect, send, answer) before it counts as failed and is retried.")
    notifier_allowed_networks: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = Field((), description="Comma-separated networks (e.g. `192.168.1.0/24,::1/128`) that webhooks and push-service URLs may reach although they are private, loopback, link-local or otherwise not public; by default the notifier calls public addresses only, so a rule cannot reach the machine's or the LAN's services (server-side request forgery).")
    notifier_ops_host: str = Field("127.0.0.1", description="notifier side HTTP address for /healthz, /readyz and /metrics.")
    notifier_ops_port: int = Field(8093, description="notifier side HTTP port for /healthz, /readyz and /metrics (0: pick a free port).")
    notifier_group_id: str = Field("notifier", description="Kafka consumer group the notifier replicas share on `sensr.activity`.")
    notifier_lease_seconds: float = Field(120.0, gt=0, description="Seconds a notifier replica holds a delivery it is sending; a delivery still unrecorded after that (its replica crashed mid-send) is sent again by any replica, so a crash costs at most one duplicate, never a loss. Keep it above the longest send (SMTP and webhook timeouts).")
    notifier_first_retry_seconds: float = Field(5.0, gt=0, description="Pause before the second attempt of a webhook, push or e-mail delivery that failed for a passing reason (timeout, 5xx, 429); each later pause doubles, up to an hour, for up to 24 hours.")
    notifier_poll_seconds: float = Field(1.0, gt=0, description="Seconds between a notifier replica's looks for deliveries that are due again (retries, and sends a crashed replica left unfinished).")
    notifier_concurrency: int = Field(32, ge=1, description="Deliveries one notifier replica sends at once; more wait their turn (other cameras' alerts are never held up by one slow receiver beyond this).")
    notifier_retry_concurrency: int = Field(8, ge=1, description="Of the notifier's `SENSR_NOTIFIER_CONCURRENCY` sends, how many may be retries at once: retries go to receivers that failed before (often dead or slow ones that hold a send for the whole timeout), so a backlog of them never takes the slots new alerts need.")

    @field_validator("notifier_allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(ip_network(part.strip()) for part in value.split(",") if part.strip())
        return value


class ActivitySettings(_Section):
    activity_ops_host: str = Field("127.0.0.1", description="activity_worker side HTTP address for /healthz, /readyz and /metrics.")
    activity_ops_port: int = Field(8092, description="activity_worker side HTTP port for /healthz, /readyz and /metrics (0: pick a free port).")
    activity_group_id: str = Field("activity", description="Kafka consumer group the activity_worker replicas share (on `sensr.frames`, beside the catalog worker's).")
    activity_session_timeout_ms: int = Field(45_000, description="How long the group waits for a silent activity_worker replica (crashed, cut off) before giving its cameras to the others.")
    activity_batch_size: int = Field(100, description="Most frames scored per batch (one index write, one flush of `sensr.activity`, one offset commit).")
    activity_retry_max_seconds: float = Field(30.0, description="Longest pause between retries while the index database or Kafka is unavailable (the wait doubles from 0.5 s up to this).")
    activity_tick_seconds: float = Field(1.0, gt=0, description="Seconds between the activity_worker's checks for events whose camera fell quiet (ended by Sensr time: the partition's latest frame, see activity_worker/stream_clock.py) and cameras gone offline.")
class ClipSettings(_Section):
    clip_ops_host: str = Field("127.0.0.1", description="clip_worker side HTTP address for /healthz, /readyz and /metrics.")
    clip_ops_port: int = Field(8094, description="clip_worker side HTTP port for /healthz, /readyz and /metrics (0: pick a free port).")
    clip_group_id: str = Field("clips", description="Kafka consumer group the clip_worker replicas share (each renders one job at a time; `sensr.clip-jobs` has SENSR_FRAMES_PARTITIONS partitions, so at most that many render at once).")
    clip_session_timeout_ms: int = Field(45_000, description="How long the group waits for a silent clip_worker replica (crashed, cut off) before another one takes over its jobs and renders them again.")
    clip_max_frames: int = Field(18_000, ge=1, description="Most frames in one clip's output (10 minutes at 30 fps); a longer range is sampled down to this many, picked by timestamp from the index.")
    clip_max_range_days: float = Field(31.0, gt=0, description="Longest time range one clip or time-lapse may cover.")
    clip_read_threads: int = Field(8, ge=1, description="Frames a clip_worker reads from the object store at once, ahead of the encoder.")
    clip_retention_days: int = Field(30, ge=1, description="Days a clip (and a daily time-lapse) is kept before it is deleted with its MP4.")
    clip_progress_group_id: str = Field("api-clips", description="Kafka consumer group the api replicas share to record clip workers' progress reports (`sensr.clip-progress`) in the database.")
    clip_sweep_seconds: float = Field(300.0, gt=0, description="Seconds between the api's clip sweeps: clips past SENSR_CLIP_RETENTION_DAYS or of deleted cameras are removed, and days just ended get their daily time-lapse.")


class Settings:
    """All sections, each read from the environment on first use."""

    @cached_property
    def core(self) -> CoreSettings:
        return CoreSettings()

    @cached_property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings()

    @cached_property
    def s3(self) -> S3Settings:
        return S3Settings()

    @cached_property
    def database(self) -> DatabaseSettings:
        return DatabaseSettings()

    @cached_property
    def http(self) -> HttpIngestSettings:
        return HttpIngestSettings()

    @cached_property
    def ftp(self) -> FtpIngestSettings:
        return FtpIngestSettings()

    @cached_property
    def catalog(self) -> CatalogSettings:
        return CatalogSettings()

    @cached_property
    def api(self) -> ApiSettings:
        return ApiSettings()

    @cached_property
    def notifier(self) -> NotifierSettings:
        return NotifierSettings()

    @cached_property
    def activity(self) -> ActivitySettings:
        return ActivitySettings()

    @cached_property
    def clips(self) -> ClipSettings:
        return ClipSettings()

    def database_url(self) -> str:
        """The index database URL, defaulting to a SQLite file in the data folder."""
        return self.database.database_url or f"sqlite:///{(self.core.data_dir / 'index.sqlite').resolve()}"


SECTIONS: tuple[type[_Section], ...] = (
    CoreSettings, KafkaSettings, S3Settings, DatabaseSettings,
    HttpIngestSettings, FtpIngestSettings, CatalogSettings, ApiSettings, NotifierSettings,
    ActivitySettings, ClipSettings,
)


def load_settings() -> Settings:
    """Settings from the current environment (sections are parsed lazily, validated on first use)."""
    return Settings()


def settings_table() -> str:
    """A Markdown table of every setting, its default and its meaning (for the README)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for section in SECTIONS:
        for name, field in section.model_fields.items():
            default = "" if field.default is None else str(field.default)
            rows.append(f"| `SENSR_{name.upper()}` | `{default}` | {field.description} |")
    return "\n".join(rows)
