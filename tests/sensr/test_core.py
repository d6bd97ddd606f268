"""The core package's pure logic: settings, the frame event, frame ids, camera records."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensr.cameras import CameraLogin, new_upload_password
from sensr.frames import FrameEvent, FrameEventError, new_frame_id, now_us
from sensr.settings import KafkaSettings, load_settings, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSR_KAFKA_BOOTSTRAP", "kafka.example:9999")
    monkeypatch.setenv("SENSR_MAX_FRAME_BYTES", "1234")
    settings = load_settings()
    assert settings.kafka.kafka_bootstrap == "kafka.example:9999"
    assert settings.core.max_frame_bytes == 1234
    assert KafkaSettings().frames_partitions == 6  # documented default


def test_bad_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSR_MAX_FRAME_BYTES", "lots")
    with pytest.raises(ValueError, match="max_frame_bytes"):
        load_settings().core


def test_readme_lists_every_setting() -> None:
    assert settings_table() in README.read_text()


def test_frame_event_round_trips_with_every_header() -> None:
    event = FrameEvent.new("cam28", b"\xff\xd8jpeg\xff\xd9", "mjpeg", "10.0.0.7", stream_id="s1", sequence=41,
                           filename=None, camera_time_us=1_600_000_000_000_000)
    decoded = FrameEvent.from_record(event.key(), event.jpeg, event.headers())
    assert decoded == event
    assert dict(event.headers())["sequence"] == b"41"


@pytest.mark.parametrize("mangle, message", [
    (lambda h: [x for x in h if x[0] != "sensr-schema"], "missing header sensr-schema"),
    (lambda h: [(k, b"2" if k == "sensr-schema" else v) for k, v in h], "unsupported schema"),
    (lambda h: [x for x in h if x[0] != "frame-id"], "missing header frame-id"),
    (lambda h: [(k, b"soon" if k == "timestamp-us" else v) for k, v in h], "bad header value"),
    (lambda h: [(k, b"carrier-pigeon" if k == "source" else v) for k, v in h], "unknown source"),
])
def test_malformed_frame_events_are_named(mangle, message: str) -> None:  # type: ignore[no-untyped-def]
    event = FrameEvent.new("cam1", b"\xff\xd8\xff\xd9", "http")
    with pytest.raises(FrameEventError, match=message):
        FrameEvent.from_record(event.key(), event.jpeg, mangle(event.headers()))


def test_frame_event_needs_key_and_value() -> None:
    event = FrameEvent.new("cam1", b"\xff\xd8\xff\xd9", "ftp")
    with pytest.raises(FrameEventError, match="missing key"):
        FrameEvent.from_record(None, event.jpeg, event.headers())
    with pytest.raises(FrameEventError, match="missing value"):
        FrameEvent.from_record(event.key(), None, event.headers())


def test_frame_ids_are_unique_and_sort_by_time() -> None:
    start = now_us()
    ids = [new_frame_id(start + i * 1000) for i in range(2000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)  # 1 ms apart: the time part orders them


def test_camera_record_round_trips_without_the_password() -> None:
    password = new_upload_password()
    login = CameraLogin.create("cam28", "id1", "owner1", password, retention_days=7)
    value = login.to_value()
    assert password.encode() not in value
    restored = CameraLogin.from_value(value)
    assert restored == login
    assert restored.check_password(password)
    assert not restored.check_password(password + "x")
    rotated = restored.with_password("another-password")
    assert rotated.salt != login.salt
    assert not rotated.check_password(password) and rotated.check_password("another-password")


def test_upload_passwords_are_long_and_random() -> None:
    passwords = {new_upload_password() for _ in range(100)}
    assert len(passwords) == 100
    assert all(len(p) == 24 and p.isalnum() for p in passwords)
