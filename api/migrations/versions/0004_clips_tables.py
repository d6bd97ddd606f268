"""Clips: the clip jobs and their results (api_clips); share links that allow clips;
cameras' daily time-lapse setting and the time zone their days are counted in."""

import sqlalchemy as sa
from alembic import op

revision = "0004_clips"
down_revision = "0003_notifier"


def upgrade() -> None:
    op.create_table(
        "api_clips",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("camera_id", sa.String(), sa.ForeignKey("api_cameras.id"), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("day", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.Column("share_id", sa.String(), nullable=True),
        sa.Column("since_us", sa.BigInteger(), nullable=False),
        sa.Column("until_us", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=True),
        sa.Column("speed", sa.String(), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("max_width", sa.Integer(), nullable=False),
        sa.Column("max_height", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.Boolean(), nullable=False),
        sa.Column("time_zone", sa.String(), nullable=False),
        sa.Column("object_key", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("frames_done", sa.Integer(), nullable=False),
        sa.Column("frames_total", sa.Integer(), nullable=False),
        sa.Column("eta_seconds", sa.Float(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("camera_id", "day", name="api_clips_one_daily_per_day"),
    )
    op.create_index("api_clips_camera_created", "api_clips", ["camera_id", "created_us"])
    with op.batch_alter_table("api_shares") as batch:
        batch.add_column(sa.Column("allow_clips", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("api_cameras") as batch:
        batch.add_column(sa.Column("daily_timelapse", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("time_zone", sa.String(), nullable=False, server_default="UTC"))


def downgrade() -> None:
    with op.batch_alter_table("api_cameras") as batch:
        batch.drop_column("time_zone")
        batch.drop_column("daily_timelapse")
    with op.batch_alter_table("api_shares") as batch:
        batch.drop_column("allow_clips")
    op.drop_index("api_clips_camera_created", "api_clips")
    op.drop_table("api_clips")
