"""The worker's Prometheus metrics (served on the side port's /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

FRAMES_STORED = Counter("sensr_catalog_frames_stored_total",
                        "Frames newly stored and indexed (re-deliveries not counted).")
FRAMES_REDELIVERED = Counter("sensr_catalog_frames_redelivered_total",
                             "Frames stored again whose index row already existed (re-delivery after a "
                             "crash, retry or rebalance); their objects were overwritten with the same bytes.")
DUPLICATES_DROPPED = Counter("sensr_catalog_duplicates_dropped_total",
                             "Frames not stored because the same camera's identical bytes were kept within "
                             "SENSR_REUPLOAD_WINDOW (a camera's retry), by the source of the dropped copy.",
                             ["source"])
STORE_SECONDS = Histogram("sensr_catalog_store_seconds",
                          "Time to render one frame's thumbnail and write its two objects.",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
BATCH_SECONDS = Histogram("sensr_catalog_batch_seconds", "Time to process one batch, poll to commit.",
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
CONSUMER_LAG = Gauge("sensr_catalog_consumer_lag", "Records of sensr.frames not yet processed, per partition.",
                     ["partition"])
DEAD_LETTERS = Counter("sensr_catalog_dead_letters_total", "Records sent to sensr.frames.dlq, by kind.", ["kind"])
RETRIES = Counter("sensr_catalog_retries_total",
                  "Batches rewound and retried after a transient failure, by the dependency that failed.",
                  ["dependency"])
COMMIT_FAILURES = Counter("sensr_catalog_commit_failures_total",
                          "Offset commits refused (partitions moved in a rebalance); the new owner redoes the batch.")
STALE_BATCHES = Counter("sensr_catalog_stale_batches_total",
                        "Batches polled before a rebalance that took some of their partitions away: they "
                        "commit nothing of those, which their next owners redo from the last commit.")
FRAMES_UNDECODABLE = Counter("sensr_catalog_frames_undecodable_total",
                             "Frames stored with a placeholder thumbnail because Pillow could not decode them "
                             "completely (corrupt or truncated image data behind a sound header).")
DECODE_BYTES_HELD = Gauge("sensr_catalog_decode_bytes_held",
                          "Estimated memory held by thumbnail decodes under way (see SENSR_CATALOG_DECODE_BUDGET_BYTES).")
CAMERA_PURGED_OBJECTS = Counter("sensr_catalog_camera_purged_objects_total",
                                "Objects deleted because their camera was deleted.")
CAMERA_PURGED_FRAMES = Counter("sensr_catalog_camera_purged_frames_total",
                               "Index rows deleted because their camera was deleted.")
RETENTION_DELETED = Counter("sensr_catalog_retention_deleted_total", "Frames deleted by the retention sweep.")
SEGMENTS_SEALED = Counter("sensr_catalog_segments_sealed_total",
                          "Segment objects written and sealed, by why (age, size, memory, drain).", ["reason"])
SEGMENT_FRAMES = Histogram("sensr_catalog_segment_frames", "Frames per sealed segment.",
                           buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1200))
SEGMENTS_OPEN_BYTES = Gauge("sensr_catalog_segments_open_bytes",
                            "Bytes held in open (not yet sealed) segments; their frames are served from Kafka.")
SEGMENT_SEAL_FAILURES = Counter("sensr_catalog_segment_seal_failures_total",
                                "Segment seals that failed (the segment stays open and is sealed again later).")
SEGMENTS_SWEPT = Counter("sensr_catalog_segments_swept_total",
                         "Segment objects deleted because no frame points to them (writer died before sealing).")
