"""The camera-login table follows the real `sensr.cameras` topic: create, rotate,
disable and delete are seen by a running table."""

from __future__ import annotations

from sensr.cameras import AuthResult, CameraTable
from sensr.settings import CoreSettings, KafkaSettings
from tests.support.harness import eventually
from tests.support.kafka_tap import delete_camera, register_camera, update_camera


def test_table_loads_and_follows_changes(kafka_bootstrap: str, unique_name: str) -> None:
    login = register_camera(kafka_bootstrap, unique_name, "first-password")
    table = CameraTable(CoreSettings(), KafkaSettings(kafka_bootstrap=kafka_bootstrap)).start()
    try:
        assert table.loaded.wait(30), table.error
        # loaded means caught up: the camera registered before start is there
        assert table.authenticate(unique_name, "first-password") is AuthResult.OK
        assert table.authenticate(unique_name, "wrong") is AuthResult.BAD_PASSWORD
        assert table.authenticate(unique_name + "x", "first-password") is AuthResult.UNKNOWN_CAMERA

        update_camera(kafka_bootstrap, login.with_password("second-password"))
        eventually(lambda: table.authenticate(unique_name, "second-password") is AuthResult.OK, 15, 0.05)
        assert table.authenticate(unique_name, "first-password") is AuthResult.BAD_PASSWORD

        from dataclasses import replace
        update_camera(kafka_bootstrap, replace(table.get(unique_name), enabled=False))
        eventually(lambda: table.authenticate(unique_name, "second-password") is AuthResult.DISABLED, 15, 0.05)

        delete_camera(kafka_bootstrap, unique_name)
        eventually(lambda: table.get(unique_name) is None, 15, 0.05)
    finally:
        table.stop()
