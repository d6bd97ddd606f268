"""catalog_worker.known_cameras over a real camera table: no race with brand-new cameras."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog_worker.errors import TransientError
from catalog_worker.known_cameras import KnownCameras
from sensr.cameras import CameraTable
from sensr.settings import CoreSettings, KafkaSettings
from tests.support.kafka_tap import delete_camera, register_camera


@pytest.fixture
def table(kafka_bootstrap: str) -> Iterator[CameraTable]:
    table = CameraTable(CoreSettings(), KafkaSettings(kafka_bootstrap=kafka_bootstrap)).start()
    assert table.loaded.wait(30)
    yield table
    table.stop()


def test_a_camera_registered_a_moment_ago_is_known(table: CameraTable, kafka_bootstrap: str,
                                                    unique_name: str) -> None:
    cameras = KnownCameras(table, sync_timeout=10, default_retention_days=30)
    for n in range(5):  # each asked right after its record was acknowledged
        register_camera(kafka_bootstrap, f"{unique_name}-{n}", "pw")
        assert cameras.unknown({f"{unique_name}-{n}"}) == set()


def test_deleted_and_never_registered_cameras_are_unknown(table: CameraTable, kafka_bootstrap: str,
                                                          unique_name: str) -> None:
    register_camera(kafka_bootstrap, unique_name, "pw")
    register_camera(kafka_bootstrap, f"{unique_name}-gone", "pw")
    delete_camera(kafka_bootstrap, f"{unique_name}-gone")
    assert table.sync(10)  # presence is not re-checked: a camera deleted this instant may still pass
    cameras = KnownCameras(table, sync_timeout=10, default_retention_days=30)
    asked = {unique_name, f"{unique_name}-gone", f"{unique_name}-never"}
    assert cameras.unknown(asked) == {f"{unique_name}-gone", f"{unique_name}-never"}


def test_retention_comes_from_the_camera_or_the_default(table: CameraTable, kafka_bootstrap: str,
                                                        unique_name: str) -> None:
    register_camera(kafka_bootstrap, unique_name, "pw", retention_days=3)
    register_camera(kafka_bootstrap, f"{unique_name}-plain", "pw")
    cameras = KnownCameras(table, sync_timeout=10, default_retention_days=30)
    cameras.unknown({unique_name})  # catches the table up
    assert cameras.retention_days(unique_name) == 3
    assert cameras.retention_days(f"{unique_name}-plain") == 30
    assert cameras.retention_days(f"{unique_name}-never") == 30


def test_a_table_that_cannot_catch_up_means_retry_not_unknown(kafka_bootstrap: str, unique_name: str) -> None:
    stopped = CameraTable(CoreSettings(), KafkaSettings(kafka_bootstrap=kafka_bootstrap))  # never started
    with pytest.raises(TransientError) as raised:
        KnownCameras(stopped, sync_timeout=0.5, default_retention_days=30).unknown({unique_name})
    assert raised.value.dependency == "cameras"
