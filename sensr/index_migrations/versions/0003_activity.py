"""Activity: a motion score per frame, per-hour counts of moving frames, and events."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "frame_scores",
        sa.Column("frame_id", sa.String(), primary_key=True),
        sa.Column("camera", sa.String(), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("moving", sa.Boolean(), nullable=False),
        sa.Column("scene_change", sa.Boolean(), nullable=False),
    )
    op.create_index("frame_scores_camera_time", "frame_scores", ["camera", "timestamp_us"])
    op.create_table(
        "activity_hours",
        sa.Column("camera", sa.String(), primary_key=True),
        sa.Column("hour_us", sa.BigInteger(), primary_key=True),
        sa.Column("moving_frames", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(), primary_key=True),
        sa.Column("camera", sa.String(), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=False),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("moving_frames", sa.Integer(), nullable=False),
        sa.Column("peak_score", sa.Float(), nullable=False),
        sa.Column("key_frame_id", sa.String(), nullable=False),
        sa.Column("ended", sa.Boolean(), nullable=False),
    )
    op.create_index("events_camera_start", "events", ["camera", "start_us", "event_id"])


def downgrade() -> None:
    op.drop_index("events_camera_start", table_name="events")
    op.drop_table("events")
    op.drop_table("activity_hours")
    op.drop_index("frame_scores_camera_time", table_name="frame_scores")
    op.drop_table("frame_scores")
