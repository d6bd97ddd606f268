"""Support for the clip tests (no tests here): frames of chosen sizes stored as the
catalog worker stores them, jobs published as the api publishes them, the progress
records of a job, and what ffprobe says of an MP4."""

from __future__ import annotations

import io
import json
import subprocess
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from PIL import Image, ImageDraw

from sensr.broker import CLIP_CANCELS, CLIP_JOBS, CLIP_PROGRESS, make_consumer, make_producer
from sensr.clips import ClipJob, ClipProgress
from sensr.frames import new_frame_id
from sensr.index import FrameIndex, FrameRecord
from sensr.settings import CoreSettings, KafkaSettings, S3Settings
from sensr.storage import make_s3_client, object_keys

START_US = 1_790_000_000_000_000


def numbered_jpeg(number: int, width: int, height: int) -> bytes:
    """A JPEG showing `number` on a colour that changes with it (so frames differ)."""
    image = Image.new("RGB", (width, height), ((number * 7) % 256, (number * 13) % 256, 90))
    ImageDraw.Draw(image).text((4, 4), str(number), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def store_frames(env: Mapping[str, str], camera: str, timestamps_us: list[int],
                 sizes: list[tuple[int, int]]) -> list[FrameRecord]:
    """Frames of `camera` in the stack's bucket and index, frame n of size sizes[n % len(sizes)]."""
    s3 = make_s3_client(S3Settings(s3_endpoint=env["SENSR_S3_ENDPOINT"], s3_access_key=env["SENSR_S3_ACCESS_KEY"],
                                   s3_secret_key=env["SENSR_S3_SECRET_KEY"]))
    records = []
    for n, timestamp_us in enumerate(timestamps_us):
        width, height = sizes[n % len(sizes)]
        jpeg = numbered_jpeg(n, width, height)
        frame_id = new_frame_id(timestamp_us)
        key, thumbnail = object_keys(camera, timestamp_us, frame_id)
        s3.put_object(env["SENSR_S3_BUCKET"], key, io.BytesIO(jpeg), len(jpeg), content_type="image/jpeg")
        records.append(FrameRecord(frame_id, camera, timestamp_us, len(jpeg), width, height, "http", key, thumbnail))
    index = FrameIndex.open(env["SENSR_DATABASE_URL"])
    try:
        index.add(records)
    finally:
        index.close()
    return records


def new_job(camera: str, since_us: int, until_us: int, **options: Any) -> ClipJob:
    job_id = uuid.uuid4().hex[:12]
    return ClipJob(job_id=job_id, camera=camera, since_us=since_us, until_us=until_us,
                   object_key=f"{camera}/clips/{job_id}.mp4", **options)


def publish_job(bootstrap: str, job: ClipJob) -> None:
    producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap))
    try:
        producer.send(CLIP_JOBS, key=job.job_id.encode(), value=job.value()).get(timeout=10)
    finally:
        producer.close()


class ProgressTap:
    """The records on `sensr.clip-progress` from its end at creation, by job."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer: KafkaConsumer = make_consumer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap),
                                                      group_id=None)
        partitions = [TopicPartition(CLIP_PROGRESS, p) for p in self._consumer.partitions_for_topic(CLIP_PROGRESS)]
        self._consumer.assign(partitions)
        self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            self._consumer.position(partition)
        self.seen: list[ClipProgress] = []

    def of(self, job_id: str) -> list[ClipProgress]:
        for records in self._consumer.poll(timeout_ms=200).values():
            self.seen += [ClipProgress.decode(r.key, r.value) for r in records]
        return [progress for progress in self.seen if progress.job_id == job_id]

    def final(self, job_id: str) -> ClipProgress | None:
        return next((p for p in self.of(job_id) if p.state in ("ready", "failed", "cancelled")), None)

    def close(self) -> None:
        self._consumer.close()


def download(env: Mapping[str, str], key: str, path: Path) -> Path:
    s3 = make_s3_client(S3Settings(s3_endpoint=env["SENSR_S3_ENDPOINT"], s3_access_key=env["SENSR_S3_ACCESS_KEY"],
                                   s3_secret_key=env["SENSR_S3_SECRET_KEY"]))
    s3.fget_object(env["SENSR_S3_BUCKET"], key, str(path))
    return path


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's view of the video stream (frames counted by decoding) and the duration."""
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name,pix_fmt,width,height,nb_read_frames:format=duration,format_name",
                          "-of", "json", str(path)], capture_output=True, check=True, text=True).stdout
    data = json.loads(out)
    stream = data["streams"][0]
    return {"codec": stream["codec_name"], "pix_fmt": stream["pix_fmt"], "width": stream["width"],
            "height": stream["height"], "frames": int(stream["nb_read_frames"]),
            "duration": float(data["format"]["duration"])}


def moov_before_mdat(path: Path) -> bool:
    """True when the MP4's index (`moov`) comes before its media (`faststart`)."""
    data = path.read_bytes()
    return 0 < data.find(b"moov") < data.find(b"mdat")


def publish_cancel(bootstrap: str, job_id: str) -> None:
    producer = make_producer(CoreSettings(), KafkaSettings(kafka_bootstrap=bootstrap))
    try:
        producer.send(CLIP_CANCELS, key=job_id.encode(), value=job_id.encode()).get(timeout=10)
    finally:
        producer.close()


def rendering_now(ops_url: str) -> bool:
    """Whether the worker whose ops endpoints are at `ops_url` is rendering a job."""
    try:
        with urllib.request.urlopen(f"{ops_url}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return False
    return "\nsensr_clip_rendering 1.0" in text
