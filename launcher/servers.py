"""Kafka and an S3 server for a benchmark or a script: the ones the test variables name
(`SENSR_TEST_KAFKA_BOOTSTRAP`, `SENSR_TEST_S3_ENDPOINT` with `SENSR_TEST_S3_ACCESS_KEY` /
`SENSR_TEST_S3_SECRET_KEY`, as the test harness reads them), else native servers of
`infra/` of the caller's own, stopped when its `ExitStack` closes. Sensr's topics are
created either way."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

from infra.kafka_server import KafkaServer
from infra.seaweedfs import SeaweedS3
from launcher.service_stack import S3Endpoint
from sensr.broker import ensure_topics
from sensr.settings import CoreSettings, KafkaSettings


def named_s3() -> S3Endpoint | None:
    """The S3 server the test variables name, if they do."""
    endpoint = os.environ.get("SENSR_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    return S3Endpoint(endpoint, os.environ.get("SENSR_TEST_S3_ACCESS_KEY", "sensr"),
                      os.environ.get("SENSR_TEST_S3_SECRET_KEY", "sensr-secret-key"))


def kafka_and_s3(cleanup: ExitStack, folder: Path, kafka_heap: str = KafkaServer.heap) -> tuple[str, S3Endpoint]:
    """A Kafka bootstrap address (topics created) and an S3 server; servers of our own
    keep their data under `folder`."""
    bootstrap = os.environ.get("SENSR_TEST_KAFKA_BOOTSTRAP")
    if not bootstrap:
        kafka = KafkaServer(folder / "kafka", heap=kafka_heap)
        kafka.start()
        cleanup.callback(kafka.stop)
        bootstrap = kafka.bootstrap
    ensure_topics(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap))
    if (s3 := named_s3()) is not None:
        return bootstrap, s3
    seaweed = SeaweedS3(folder / "seaweedfs")
    seaweed.start()
    cleanup.callback(seaweed.stop)
    return bootstrap, S3Endpoint(seaweed.endpoint, seaweed.access_key, seaweed.secret_key)
