#!/usr/bin/env python3
"""Follow one Sensr camera on Kafka and save its frames as JPEG files.

A stream subscriber written against Sensr's public contract (docs/asyncapi.yaml) with
nothing but kafka-python: it imports no Sensr code. Each record of `sensr.frames` is one
uploaded JPEG: the key is the camera username, the value the JPEG bytes, and headers
(UTF-8 text) carry the metadata: `sensr-schema` (layout version, "1"), `frame-id` (a
ULID), `timestamp-us` (Sensr's arrival time, microseconds since the epoch, UTC),
`source` (ftp, http or mjpeg), `client`, and, where there is one, `filename`,
`stream-id`, `sequence` and `camera-time-us`.

    pip install kafka-python==3.0.12
    python follow_camera.py localhost:9092 cam28 ./frames                 # new frames
    python follow_camera.py localhost:9092 cam28 ./frames --from-beginning --max-frames 100

Each frame is saved as `<time>-<frame-id>.jpg`, `<time>` being its Sensr timestamp in UTC
as `YYYYMMDDTHHMMSSffffffZ` (the leaf names of Sensr's object store, so file names sort
by time), and reported on one line. Ctrl-C stops it.

Records are keyed by camera and Sensr's producers use Kafka's default partitioner
(murmur2 of the key, as the Java client), so one camera's frames are all in one
partition, in order: this reads only that partition, without a consumer group (nothing
is committed; every run starts from the end, or the beginning with --from-beginning).
Delivery is at-least-once, so a frame may come twice: the file name makes that harmless.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2

TOPIC = "sensr.frames"
SCHEMA_VERSION = b"1"
# A record is at most the largest frame (16 MiB by default) plus 64 KiB of key, headers and
# framing: the consumer must be willing to fetch that much from one partition at once.
MAX_RECORD_BYTES = 16 * 1024 * 1024 + 64 * 1024
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def partition_for(camera: str, partitions: int) -> int:
    """The partition Kafka's default partitioner puts `camera`'s records in."""
    return (murmur2(camera.encode()) & 0x7FFFFFFF) % partitions


def frame_file_name(headers: dict[str, bytes]) -> str | None:
    """`<time>-<frame-id>.jpg` from a record's headers, or None if they do not follow the
    contract (header values come from the network: never trust them as paths)."""
    frame_id = headers.get("frame-id", b"").decode("ascii", "replace")
    timestamp = headers.get("timestamp-us", b"").decode("ascii", "replace")
    if not ULID.fullmatch(frame_id) or not timestamp.isdigit():
        return None
    return f"{utc(int(timestamp)):%Y%m%dT%H%M%S%fZ}-{frame_id}.jpg"


def utc(timestamp_us: int) -> datetime:
    """A Sensr timestamp (microseconds since the epoch) as a UTC datetime, exactly."""
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=timestamp_us)


def save(folder: Path, name: str, jpeg: bytes) -> Path:
    """Write the file atomically: a reader of the folder never sees half a frame."""
    target = folder / name
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=".jpg")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(jpeg)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def describe(headers: dict[str, bytes], size: int, path: Path) -> str:
    stamp = utc(int(headers["timestamp-us"]))
    where = headers.get("filename") or headers.get("stream-id", b"")
    if "sequence" in headers:
        where += b" #" + headers["sequence"]
    source = headers.get("source", b"?").decode(errors="replace")
    return (f"{stamp.isoformat(timespec='microseconds').replace('+00:00', 'Z')}  {source:<5}  "
            f"{size:>9} bytes  {where.decode(errors='replace')}  -> {path}")


def follow(bootstrap: str, camera: str, folder: Path, from_beginning: bool, max_frames: int | None,
           wait_seconds: float) -> int:
    """Save `camera`'s frames into `folder` until `max_frames` are saved or Ctrl-C. Returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=MAX_RECORD_BYTES,
        fetch_max_bytes=max(52_428_800, MAX_RECORD_BYTES),
        client_id="sensr-follow-camera",
    )
    saved = 0
    try:
        deadline = time.monotonic() + wait_seconds
        while not (partitions := consumer.partitions_for_topic(TOPIC)):
            if time.monotonic() > deadline:
                raise SystemExit(f"topic {TOPIC} not found at {bootstrap}")
            time.sleep(0.5)
        partition = TopicPartition(TOPIC, partition_for(camera, len(partitions)))
        consumer.assign([partition])
        if from_beginning:
            consumer.seek_to_beginning(partition)
        else:
            consumer.seek_to_end(partition)
        consumer.position(partition)  # resolve the start offset now: frames after this are ours
        print(f"following {camera} on {TOPIC}[{partition.partition}] at {bootstrap}, saving to {folder}",
              file=sys.stderr, flush=True)
        wanted = camera.encode()
        while max_frames is None or saved < max_frames:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.key != wanted:
                        continue  # another camera that hashes to the same partition
                    headers = dict(record.headers or [])
                    if headers.get("sensr-schema") != SCHEMA_VERSION:
                        print(f"skipping offset {record.offset}: unknown sensr-schema "
                              f"{headers.get('sensr-schema')!r}", file=sys.stderr, flush=True)
                        continue
                    name = frame_file_name(headers)
                    if name is None or record.value is None:
                        print(f"skipping offset {record.offset}: not a valid frame event", file=sys.stderr, flush=True)
                        continue
                    path = save(folder, name, record.value)
                    saved += 1
                    print(describe(headers, len(record.value), path), flush=True)
                    if max_frames is not None and saved >= max_frames:
                        break
                if max_frames is not None and saved >= max_frames:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return saved


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Follow one Sensr camera on Kafka and save its frames.")
    parser.add_argument("bootstrap", help="Kafka bootstrap servers, host:port[,host:port] (compose: localhost:9092)")
    parser.add_argument("camera", help="the camera's username (its upload USERNAME, e.g. cam28)")
    parser.add_argument("folder", type=Path, help="where to save the frames (created if missing)")
    parser.add_argument("--from-beginning", action="store_true",
                        help="start with the oldest frame Kafka still keeps, not with the next new one")
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after saving N frames")
    parser.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                        help="how long to wait for the topic to exist (default 30)")
    args = parser.parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        parser.error("--max-frames must be at least 1")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    saved = follow(args.bootstrap, args.camera, args.folder, args.from_beginning, args.max_frames, args.wait)
    print(f"saved {saved} frame(s) of {args.camera}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
