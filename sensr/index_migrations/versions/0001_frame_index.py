"""The frame index: one row per frame, per-hour counts and per-camera totals."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "frames",
        sa.Column("frame_id", sa.String(), primary_key=True),
        sa.Column("camera", sa.String(), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("object_key", sa.String(), nullable=False),
        sa.Column("thumbnail_key", sa.String(), nullable=False),
        sa.Column("filename", sa.String(), nullable=True),
    )
    op.create_index("frames_camera_time", "frames", ["camera", "timestamp_us", "frame_id"])
    op.create_table(
        "frame_hours",
        sa.Column("camera", sa.String(), primary_key=True),
        sa.Column("hour_us", sa.BigInteger(), primary_key=True),
        sa.Column("frames", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "frame_totals",
        sa.Column("camera", sa.String(), primary_key=True),
        sa.Column("frames", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("frame_totals")
    op.drop_table("frame_hours")
    op.drop_index("frames_camera_time", table_name="frames")
    op.drop_table("frames")
