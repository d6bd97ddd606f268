"""activity_worker: a motion score for every frame, and the events that moving frames form.

The pure core: `motion` (one camera's background model and the score of each frame
against it) and `events` (consecutive moving frames grouped into events). The service
around it: `camera` (one camera's state, and its takeover from the index), `processor`
(a batch of frames to the index and `sensr.activity`), `consumer` (the poll → score →
commit loop), `service` and `__main__` (`python -m activity_worker`), `metrics`.
"""
