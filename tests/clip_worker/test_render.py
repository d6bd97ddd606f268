"""The clip worker as a process against real Kafka, SeaweedFS and a SQLite index: jobs in,
MP4s (checked with ffprobe) and progress out."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.service_stack import ServiceStack
from sensr.clips import ClipProgress
from tests.support.clips import START_US, ProgressTap, download, moov_before_mdat, new_job, probe, publish_job, store_frames
from workload.waiting import eventually

SECOND = 1_000_000


def rendered(stack: ServiceStack, progress: ProgressTap, job_id: str, timeout: float = 120) -> ClipProgress:
    return eventually(lambda: progress.final(job_id), timeout=timeout,
                      what=lambda: f"outcome of {job_id}; log: {stack.log('clip_worker')[-2000:]}")


def test_a_timelapse_of_300_frames_is_h264_yuv420p_faststart_one_frame_each(
        clip_stack: ServiceStack, progress: ProgressTap, unique_name: str, tmp_path: Path) -> None:
    store_frames(clip_stack.env, unique_name, [START_US + n * SECOND for n in range(300)], [(320, 240)])
    job = new_job(unique_name, START_US, START_US + 300 * SECOND, speed="timelapse", fps=30, timestamp=True)
    publish_job(clip_stack.kafka_bootstrap, job)

    outcome = rendered(clip_stack, progress, job.job_id)

    assert outcome.state == "ready", outcome
    video = download(clip_stack.env, job.object_key, tmp_path / "clip.mp4")
    info = probe(video)
    assert (info["codec"], info["pix_fmt"], info["frames"]) == ("h264", "yuv420p", 300)
    assert info["duration"] == pytest.approx(10.0, abs=0.05)
    assert outcome.size == video.stat().st_size and outcome.duration == pytest.approx(10.0, abs=0.05)
    assert moov_before_mdat(video)
    steps = [p for p in progress.of(job.job_id) if p.state == "rendering"]
    assert steps and steps[-1].frames_total == 300


@pytest.mark.parametrize(("speed", "factor", "expected_seconds"), [("realtime", 1.0, 29.9), ("factor", 10.0, 2.99)])
def test_frames_are_placed_by_their_timestamps_at_the_chosen_speed(
        clip_stack: ServiceStack, progress: ProgressTap, unique_name: str, tmp_path: Path,
        speed: str, factor: float, expected_seconds: float) -> None:
    """300 frames 0.1 s apart: real time lasts 29.9 s (+ the last frame), 10x a tenth of it."""
    store_frames(clip_stack.env, unique_name, [START_US + n * SECOND // 10 for n in range(300)], [(160, 120)])
    job = new_job(unique_name, START_US, START_US + 60 * SECOND, speed=speed, factor=factor, fps=30)
    publish_job(clip_stack.kafka_bootstrap, job)

    assert rendered(clip_stack, progress, job.job_id).state == "ready"
    info = probe(download(clip_stack.env, job.object_key, tmp_path / "clip.mp4"))
    assert info["frames"] == 300
    assert info["duration"] == pytest.approx(expected_seconds + 1 / 30, abs=0.05)


def test_frames_of_two_sizes_are_letterboxed_into_one(
        clip_stack: ServiceStack, progress: ProgressTap, unique_name: str, tmp_path: Path) -> None:
    store_frames(clip_stack.env, unique_name, [START_US + n * SECOND for n in range(40)], [(640, 360), (320, 240)])
    job = new_job(unique_name, START_US, START_US + 40 * SECOND, speed="timelapse", fps=10, max_width=480,
                  max_height=480)
    publish_job(clip_stack.kafka_bootstrap, job)

    assert rendered(clip_stack, progress, job.job_id).state == "ready"
    info = probe(download(clip_stack.env, job.object_key, tmp_path / "clip.mp4"))
    assert (info["width"], info["height"], info["frames"]) == (480, 270, 40)


def test_a_range_without_frames_fails_with_a_reason(
        clip_stack: ServiceStack, progress: ProgressTap, unique_name: str) -> None:
    job = new_job(unique_name, START_US, START_US + SECOND)
    publish_job(clip_stack.kafka_bootstrap, job)
    outcome = rendered(clip_stack, progress, job.job_id)
    assert (outcome.state, outcome.reason) == ("failed", "the camera has no frames in this range")


def test_health_readiness_and_metrics_answer_on_the_side_port(clip_stack: ServiceStack) -> None:
    import json
    import urllib.request
    base = clip_stack.ops_url("clip_worker")
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
        assert json.load(answer) == {"alive": True}
    with urllib.request.urlopen(f"{base}/readyz", timeout=5) as answer:
        assert json.load(answer)["checks"] == {"consuming": True, "cancels_loaded": True, "kafka": True,
                                               "storage": True}
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    assert "sensr_clip_jobs_total" in text and "sensr_clip_frames_encoded_total" in text
