"""Notifier: one row per alert delivery (rule, activity record, channel), its state and attempts."""

import sqlalchemy as sa
from alembic import op

revision = "0004_notifier"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "alert_deliveries",
        sa.Column("delivery_id", sa.String(), primary_key=True),
        sa.Column("rule_id", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("camera", sa.String(), nullable=False),
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("record", sa.Text(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.Column("first_attempt_us", sa.BigInteger(), nullable=True),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=True),
        sa.Column("lease_until_us", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("rule_id", "record_id", "channel", name="alert_deliveries_once"),
    )
    op.create_index("alert_deliveries_due", "alert_deliveries", ["state", "next_attempt_us"])
    op.create_index("alert_deliveries_camera", "alert_deliveries", ["camera_id", "created_us"])
    op.create_index("alert_deliveries_rule", "alert_deliveries", ["rule_id", "created_us"])


def downgrade() -> None:
    op.drop_table("alert_deliveries")
