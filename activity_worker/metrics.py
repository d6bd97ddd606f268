"""The activity worker's Prometheus metrics (served on the side port's /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

FRAMES_SCORED = Counter("sensr_activity_frames_scored_total",
                        "Frames given a motion score, by verdict: moving, quiet, warming_up (building the "
                        "baseline after a start, a takeover or a scene change), scene_change, undecodable.",
                        ["verdict"])
FRAMES_REDELIVERED = Counter("sensr_activity_frames_redelivered_total",
                             "Frames received again whose score was already recorded (after a restart, retry or "
                             "rebalance): they only warm the background model.")
SCORE_SECONDS = Histogram("sensr_activity_score_seconds", "Time to decode (at reduced scale) and score one frame.",
                          buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1))
BATCH_SECONDS = Histogram("sensr_activity_batch_seconds",
                          "Time to process one batch: score, write the index, publish, commit.",
                          buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
EVENTS_OPENED = Counter("sensr_activity_events_opened_total", "Motion events started (event.start published).")
RECORDS_PUBLISHED = Counter("sensr_activity_records_published_total", "Records published to sensr.activity, by type.",
                            ["type"])
CAMERAS_RESUMED = Counter("sensr_activity_cameras_resumed_total",
                          "Cameras taken over (first frame after a start, rebalance or retry): open event "
                          "resumed from the index.")
CONSUMER_LAG = Gauge("sensr_activity_consumer_lag", "Records of sensr.frames not yet scored, per partition.",
                     ["partition"])
RETRIES = Counter("sensr_activity_retries_total",
                  "Batches rewound and retried after a transient failure, by the dependency that failed.",
                  ["dependency"])
COMMIT_FAILURES = Counter("sensr_activity_commit_failures_total",
                          "Offset commits refused or failed (partitions moved in a rebalance); the batch is redone.")
