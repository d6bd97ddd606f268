"""clip_worker: renders MP4 clips and time-lapses of stored frames (consumer group
`clips` on `sensr.clip-jobs`), uploads them to the bucket and reports progress on
`sensr.clip-progress`. Steps: `consumer.py` (poll one job, render it while the group
keeps the worker as a member, commit) → `job.py` (select frames, read and encode, upload,
report) over `selection.py`, `render.py`, `progress.py`; cancellations from `cancels.py`."""
