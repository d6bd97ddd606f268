"""A cancelled job stops and frees its worker; a worker killed mid-job leaves the job to
another worker of the group, which renders it to the same key."""

from __future__ import annotations

from pathlib import Path

from launcher.service_stack import ServiceStack
from tests.support.clips import (START_US, ProgressTap, download, new_job, probe, publish_cancel, publish_job,
                                 rendering_now, store_frames)
from workload.waiting import eventually

SECOND = 1_000_000
LONG = 400
"""Frames of 1280x720 in a job long enough to be caught mid-render (several seconds here)."""


def started(progress: ProgressTap, job_id: str) -> bool:
    return any(p.state == "rendering" and p.frames_done > 0 for p in progress.of(job_id))


def test_a_cancelled_job_stops_and_the_worker_takes_the_next(
        clip_stack: ServiceStack, progress: ProgressTap, unique_name: str) -> None:
    store_frames(clip_stack.env, unique_name, [START_US + n * SECOND for n in range(LONG)], [(1280, 720)])
    long_job = new_job(unique_name, START_US, START_US + LONG * SECOND, max_width=1280, max_height=720)
    publish_job(clip_stack.kafka_bootstrap, long_job)
    eventually(lambda: started(progress, long_job.job_id), timeout=60)

    publish_cancel(clip_stack.kafka_bootstrap, long_job.job_id)
    outcome = eventually(lambda: progress.final(long_job.job_id), timeout=30)
    assert outcome.state == "cancelled"
    assert max(p.frames_done for p in progress.of(long_job.job_id)) < LONG

    short_job = new_job(unique_name, START_US, START_US + 10 * SECOND, max_width=160, max_height=120)
    publish_job(clip_stack.kafka_bootstrap, short_job)
    assert eventually(lambda: progress.final(short_job.job_id), timeout=60).state == "ready"


def test_a_job_cancelled_before_it_is_taken_is_never_rendered(
        clip_stack: ServiceStack, progress: ProgressTap, unique_name: str) -> None:
    job = new_job(unique_name, START_US, START_US + 10 * SECOND)
    publish_cancel(clip_stack.kafka_bootstrap, job.job_id)
    publish_job(clip_stack.kafka_bootstrap, job)
    assert eventually(lambda: progress.final(job.job_id), timeout=60).state == "cancelled"
    assert not [p for p in progress.of(job.job_id) if p.state == "rendering"]


def test_a_worker_killed_mid_job_leaves_it_to_another(
        clip_stack: ServiceStack, progress: ProgressTap, unique_name: str, tmp_path: Path) -> None:
    second = ServiceStack(clip_stack.kafka_bootstrap, tmp_path / "second", clip_stack.s3, services=("clip_worker",),
                          overrides={**{k: v for k, v in clip_stack.env.items() if k.startswith("SENSR_")
                                        and not k.endswith(("_OPS_PORT", "_DATA_DIR"))}})
    second.start_service("clip_worker")
    try:
        store_frames(clip_stack.env, unique_name, [START_US + n * SECOND for n in range(LONG)], [(1280, 720)])
        job = new_job(unique_name, START_US, START_US + LONG * SECOND, max_width=1280, max_height=720)
        publish_job(clip_stack.kafka_bootstrap, job)
        eventually(lambda: started(progress, job.job_id), timeout=60)
        busy = eventually(lambda: [s for s in (clip_stack, second) if rendering_now(s.ops_url("clip_worker"))],
                          timeout=30)[0]
        other = second if busy is clip_stack else clip_stack

        busy.kill_service("clip_worker")

        outcome = eventually(lambda: progress.final(job.job_id), timeout=120,
                             what=lambda: other.log("clip_worker")[-2000:])
        assert outcome.state == "ready"
        assert "clip_job_started" in other.log("clip_worker")
        info = probe(download(clip_stack.env, job.object_key, tmp_path / "clip.mp4"))
        assert info["frames"] == LONG
    finally:
        second.stop()
        if not clip_stack.running("clip_worker"):
            clip_stack.start_service("clip_worker")
