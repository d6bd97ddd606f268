"""activity_worker: a motion score for every frame, and the events that moving frames form.

The pure core comes first: `motion` (one camera's background model and the score of each
frame against it) and `events` (consecutive moving frames grouped into events).
"""
