"""Camera upload logins and settings, as carried by the compacted `sensr.cameras` topic.

The api is the only writer: one record per camera username (key), holding a salted
verifier of the upload password (never the password), the enabled flag, the retention
and the settings the back-ends act on (the camera's name, its motion sensitivity and
ignore zones, the quiet seconds that end an event, the "keep what matters" policy and
the minutes of silence that make it offline); a tombstone (null value) when the camera
is deleted. The ingest edges and the workers materialise the topic in memory with
`CameraTable`, so no back-end reads the api's database.

Why a fast verifier (HMAC-SHA256) and not a slow password hash: camera passwords are
server-generated random secrets of 120+ bits, so guessing is hopeless whatever the hash
speed, and edges check a password on every upload (thousands per second).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from kafka import TopicPartition

from sensr.broker import CAMERAS, make_consumer
from sensr.logs import get_logger
from sensr.settings import CoreSettings, KafkaSettings

log = get_logger(__name__)
RECORD_VERSION = 1
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o/1/l: passwords are typed into camera menus


def new_upload_password(length: int = 24) -> str:
    """A random camera password (24 chars of a 32-symbol alphabet = 120 bits)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def password_verifier(password: str, salt: bytes) -> bytes:
    return hmac.new(salt, password.encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class CameraLogin:
    """What the edges know of one camera: its upload login and a few settings."""

    username: str
    camera_id: str
    owner_id: str
    salt: bytes
    verifier: bytes
    enabled: bool = True
    retention_days: int | None = None
    updated_at: float = 0.0
    name: str = ""
    sensitivity: int = 5
    """Motion sensitivity, 1 (only large changes) to 10 (the smallest); see activity_worker.motion."""
    ignore_zones: tuple[tuple[float, float, float, float], ...] = ()
    """Rectangles never scored for motion: (left, top, right, bottom) in fractions of the frame."""
    event_gap_seconds: float = 30.0
    """Quiet seconds that end a motion event."""
    keep_what_matters: bool = False
    """When on, frames that belong to no motion event are removed after `unmoving_keep_hours`."""
    unmoving_keep_hours: int = 24
    offline_minutes: int = 10
    """Minutes without a frame after which the camera counts as offline."""

    @classmethod
    def create(cls, username: str, camera_id: str, owner_id: str, password: str, **extra: Any) -> "CameraLogin":
        salt = secrets.token_bytes(16)
        return cls(username=username, camera_id=camera_id, owner_id=owner_id, salt=salt,
                   verifier=password_verifier(password, salt), updated_at=time.time(), **extra)

    def with_password(self, password: str) -> "CameraLogin":
        salt = secrets.token_bytes(16)
        return replace(self, salt=salt, verifier=password_verifier(password, salt), updated_at=time.time())

    def check_password(self, password: str) -> bool:
        return hmac.compare_digest(password_verifier(password, self.salt), self.verifier)

    def to_value(self) -> bytes:
        record = asdict(self)
        record["salt"] = base64.b64encode(self.salt).decode()
        record["verifier"] = base64.b64encode(self.verifier).decode()
        record["v"] = RECORD_VERSION
        return json.dumps(record, separators=(",", ":")).encode()

    @classmethod
    def from_value(cls, value: bytes) -> "CameraLogin":
        record = json.loads(value)
        known = {field.name for field in fields(cls)}
        record = {name: item for name, item in record.items() if name in known}  # newer writers may add fields
        record["salt"] = base64.b64decode(record["salt"])
        record["verifier"] = base64.b64decode(record["verifier"])
        record["ignore_zones"] = tuple(tuple(float(edge) for edge in zone) for zone in record.get("ignore_zones", ()))
        return cls(**record)


class AuthResult(enum.Enum):
    OK = "ok"
    UNKNOWN_CAMERA = "unknown_camera"
    BAD_PASSWORD = "bad_password"
    DISABLED = "disabled"


class CameraTable:
    """The `sensr.cameras` topic materialised in memory and followed live.

    `start()` launches a daemon thread that reads the topic from the beginning; `loaded`
    is set once it has caught up with the end offsets seen at start-up (serve uploads
    only after that). Reads are lock-free dict lookups; the thread swaps entries in.
    `subscribe()` tells a listener which camera changed, so that an edge can end the
    uploads of a login that no longer holds.

    Another compacted topic of per-camera records is followed the same way by a subclass
    that names its `topic` and overrides `apply` (the notifier's alert rules).
    """

    topic = CAMERAS

    def __init__(self, core: CoreSettings, kafka: KafkaSettings) -> None:
        self._core, self._kafka = core, kafka
        self._logins: dict[str, CameraLogin] = {}
        self.loaded = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        self._sync_requests: list[threading.Event] = []
        self._sync_lock = threading.Lock()
        self._listeners: tuple[Callable[[str], None], ...] = ()

    def start(self) -> "CameraTable":
        self._thread = threading.Thread(target=self._run, name="camera-table", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def wait_loaded(self, timeout: float = 5.0) -> None:
        """Return once the table has caught up with the topic (`loaded`); raise TimeoutError
        saying why not after `timeout` seconds: a start-up step to wait for with
        `sensr.lifecycle.wait_for`."""
        if not self.loaded.wait(timeout):
            raise TimeoutError(self.error or "sensr.cameras not read to its end yet")

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call `listener(username)` after each record of a camera is applied (created,
        changed or deleted), once `get` returns the new state. It runs on the table's
        thread: it must be quick and thread-safe (e.g. `loop.call_soon_threadsafe`)."""
        self._listeners = (*self._listeners, listener)

    def get(self, username: str) -> CameraLogin | None:
        return self._logins.get(username)

    def sync(self, timeout: float) -> bool:
        """Block until the table holds every record written to the topic before this call, so
        a camera created a moment ago is known. Returns False if that took over `timeout`
        seconds (broker unreachable): then absence from the table proves nothing."""
        request = threading.Event()
        with self._sync_lock:
            self._sync_requests.append(request)
        return request.wait(timeout)

    def __len__(self) -> int:
        return len(self._logins)

    def usernames(self) -> list[str]:
        """Every camera in the table now."""
        return list(self._logins)

    def authenticate(self, username: str, password: str) -> AuthResult:
        login = self._logins.get(username)
        if login is None:
            return AuthResult.UNKNOWN_CAMERA
        if not login.check_password(password):
            return AuthResult.BAD_PASSWORD
        if not login.enabled:
            return AuthResult.DISABLED
        return AuthResult.OK

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Apply one record of the topic (a tombstone removes the camera)."""
        username = key.decode()
        if value is None:
            self._logins.pop(username, None)
        else:
            try:
                self._logins[username] = CameraLogin.from_value(value)
            except (ValueError, KeyError, TypeError) as bad:
                log.warning("camera_record_invalid", username=username, error=str(bad))
                return
        for listener in self._listeners:
            try:
                listener(username)
            except Exception:  # a listener's bug must not stop the table from following the topic
                log.exception("camera_listener_failed", username=username)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as error:  # the broker may be down; keep trying, never die
                self.error = str(error)
                log.warning("camera_table_retry", error=str(error))
                self._stop.wait(1.0)

    def _follow(self) -> None:
        consumer = make_consumer(self._core, self._kafka, group_id=None, client_id="sensr-camera-table")
        try:
            partitions = [TopicPartition(self.topic, p) for p in (consumer.partitions_for_topic(self.topic) or {0})]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            targets = consumer.end_offsets(partitions)
            syncs: list[tuple[dict[TopicPartition, int], threading.Event]] = []
            while not self._stop.is_set():
                for records in consumer.poll(timeout_ms=200).values():
                    for record in records:
                        self.apply(record.key, record.value)
                with self._sync_lock:
                    requests, self._sync_requests = self._sync_requests, []
                if requests:
                    ends = consumer.end_offsets(partitions)
                    syncs.extend((ends, request) for request in requests)
                for ends, request in syncs:
                    if all(consumer.position(tp) >= end for tp, end in ends.items()):
                        request.set()
                syncs = [(ends, request) for ends, request in syncs if not request.is_set()]
                if not self.loaded.is_set() and all(consumer.position(tp) >= end for tp, end in targets.items()):
                    self.loaded.set()
                    self.error = None
                    log.info("camera_table_loaded", cameras=len(self._logins))
        finally:
            consumer.close()


def publish_login(producer: Any, login: CameraLogin, timeout: float = 10.0) -> None:
    """Write a camera's record to `sensr.cameras` and wait for the broker's acknowledgement."""
    producer.send(CAMERAS, key=login.username.encode(), value=login.to_value()).get(timeout=timeout)


def publish_deletion(producer: Any, username: str, timeout: float = 10.0) -> None:
    """Write the tombstone that deletes a camera's login, and wait for the acknowledgement."""
    producer.send(CAMERAS, key=username.encode(), value=None).get(timeout=timeout)
