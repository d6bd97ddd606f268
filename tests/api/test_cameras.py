"""The camera service without Kafka: what the owner is shown, and that a change Kafka did
not acknowledge leaves the database as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka.errors import KafkaTimeoutError

from api.cameras import Camera, CameraService, LoginPublisher, upload_login
from api.db import Database
from api.errors import Unavailable
from api.users import UserService
from sensr.settings import load_settings


class RecordingPublisher(LoginPublisher):
    """Remembers what would have gone to `sensr.cameras`; fails while `down` is set."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []
        self.last: Camera | None = None
        self.down = False

    def publish(self, camera: Camera) -> None:
        self._send(camera.username, camera.password)
        self.last = camera

    def retract(self, username: str) -> None:
        self._send(username, None)

    def _send(self, username: str, password: str | None) -> None:
        if self.down:
            raise KafkaTimeoutError("broker away")
        self.sent.append((username, password))


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[CameraService, RecordingPublisher, str]]:
    db = Database.open(f"sqlite:///{tmp_path / 'api.sqlite'}")
    owner = UserService(db, min_password_length=10).sign_up("owner@example.com", "a long password")
    publisher = RecordingPublisher()
    yield CameraService(db, publisher), publisher, owner.id
    db.close()


def test_every_change_is_published(service: tuple[CameraService, RecordingPublisher, str]) -> None:
    cameras, publisher, owner = service
    camera = cameras.create(owner, "  Front   door ")
    assert camera.name == "Front door" and camera.username.startswith("cam")
    renamed = cameras.update(camera, name="Porch", retention_days=7)
    rotated = cameras.rotate_password(renamed)
    assert cameras.update(rotated) == rotated  # nothing to change: nothing published
    cameras.delete(rotated)
    assert publisher.sent == [(camera.username, camera.password), (camera.username, camera.password),
                              (camera.username, rotated.password), (camera.username, None)]
    assert cameras.get(camera.id) is None and cameras.owned_by(owner) == []


def test_nothing_changes_when_kafka_does_not_acknowledge(service: tuple[CameraService, RecordingPublisher, str]
                                                         ) -> None:
    cameras, publisher, owner = service
    camera = cameras.create(owner, "Porch")
    publisher.down = True
    for change in (lambda: cameras.create(owner, "Garden"), lambda: cameras.rotate_password(camera),
                   lambda: cameras.update(camera, enabled=False), lambda: cameras.delete(camera)):
        with pytest.raises(Unavailable):
            change()
    assert cameras.owned_by(owner) == [camera]


def test_the_owner_sees_ready_made_upload_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSR_PUBLIC_HOST", "sensr.example")
    monkeypatch.setenv("SENSR_FTP_PORT", "21")
    monkeypatch.setenv("SENSR_HTTP_PORT", "8080")
    settings = load_settings()
    camera = Camera(id="c1", owner_id="u1", name="n", username="cam28", password="l4hqpy0ywm", public=False,
                    retention_days=None, enabled=True, created_us=0)
    login = upload_login(camera, settings)
    assert (login.host, login.username, login.password) == ("sensr.example", "cam28", "l4hqpy0ywm")
    assert login.ftp_url == "ftp://cam28:l4hqpy0ywm@sensr.example/"
    assert login.photo_url == "http://cam28:l4hqpy0ywm@sensr.example:8080/photo/cam28"
    assert login.mjpeg_url == "http://cam28:l4hqpy0ywm@sensr.example:8080/upload/cam28"


def test_changes_build_on_the_stored_camera_not_the_callers_copy(
        service: tuple[CameraService, RecordingPublisher, str]) -> None:
    cameras, publisher, owner = service
    camera = cameras.create(owner, "Porch")
    cameras.update(camera, enabled=False)
    renamed = cameras.update(camera, name="Garden")  # `camera` still says enabled
    assert (renamed.name, renamed.enabled) == ("Garden", False)
    assert cameras.get(camera.id) == publisher.last == renamed
