"""Alert rules per camera, set by its owner; published to `sensr.alert-rules` for the notifier."""

import sqlalchemy as sa
from alembic import op

revision = "0003_notifier"
down_revision = "0002_activityapi"


def upgrade() -> None:
    op.create_table(
        "api_alert_rules",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("camera_id", sa.String(), sa.ForeignKey("api_cameras.id"), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("secret", sa.String(), nullable=True),
        sa.Column("on_start", sa.Boolean(), nullable=False),
        sa.Column("on_end", sa.Boolean(), nullable=False),
        sa.Column("on_offline", sa.Boolean(), nullable=False),
        sa.Column("on_online", sa.Boolean(), nullable=False),
        sa.Column("quiet_start", sa.String(), nullable=True),
        sa.Column("quiet_end", sa.String(), nullable=True),
        sa.Column("time_zone", sa.String(), nullable=False),
        sa.Column("spacing_seconds", sa.Integer(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_api_alert_rules_camera_id", "api_alert_rules", ["camera_id"])


def downgrade() -> None:
    op.drop_table("api_alert_rules")
