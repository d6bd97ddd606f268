"""Alembic migrations of the frame index, run by `sensr.index.FrameIndex.open`.

A new revision is a file in `versions/` written like `0001_frame_index.py`, with
`down_revision` naming the previous one; `FrameIndex.open` upgrades to the head.
"""
