"""The clip worker's Prometheus metrics."""

from prometheus_client import Counter, Gauge, Histogram

JOBS = Counter("sensr_clip_jobs_total", "Clip jobs finished, by outcome", ["outcome"])
FRAMES = Counter("sensr_clip_frames_encoded_total", "Frames encoded into clips")
FRAMES_GONE = Counter("sensr_clip_frames_gone_total", "Frames listed in the index but gone from the bucket when read")
RETRIES = Counter("sensr_clip_job_retries_total", "Jobs put back after the object store, index or Kafka failed")
RENDERING = Gauge("sensr_clip_rendering", "Jobs this worker is rendering now (0 or 1)")
RENDER_SECONDS = Histogram("sensr_clip_render_seconds", "Time to render and upload one clip",
                           buckets=(1, 5, 15, 60, 300, 900, 3600))
