"""catalog_worker: turns each frame on `sensr.frames` into stored objects and an index row.

One replica of consumer group `catalog` runs a small chain of steps per batch
(`pipeline.BatchProcessor`), then commits the batch's offsets (`consumer.ConsumerLoop`):

    decode frame events → vet cameras → check frame headers → render thumbnails within
    a memory budget and write objects (thread pool) → index the batch (one transaction)
    → announce on `sensr.catalog` and dead-letter poison on `sensr.frames.dlq` (flushed)
    → commit offsets

Only the loop touches kafka-python's records: each step takes and hands on
`message.Message`s (partition, offset, payload), and every library's exceptions become
`errors.TransientError` (redo the batch later) or `errors.RecordRefused` (dead-letter the
record) in `errors`, at the call into the library.

Effects are keyed by frame id (object keys, index primary key), so a batch that is
redone after a crash, a retry or a rebalance leaves exactly one copy of everything.

Beside the loop, two threads keep the bucket and the index tidy: the retention sweep
(`retention`) and the purge of deleted cameras (`purge`).
"""
