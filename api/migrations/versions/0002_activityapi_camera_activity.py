"""Cameras' activity settings: motion sensitivity, ignore zones, event gap, "keep what
matters" and offline minutes (defaults as in `sensr.cameras.CameraLogin`)."""

import sqlalchemy as sa
from alembic import op

revision = "0002_activityapi"
down_revision = "0001"

def _columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column("sensitivity", sa.Integer(), nullable=False, server_default="5"),
        sa.Column("ignore_zones", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("event_gap_seconds", sa.Float(), nullable=False, server_default="30"),
        sa.Column("keep_what_matters", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("unmoving_keep_hours", sa.Integer(), nullable=False, server_default="24"),
        sa.Column("offline_minutes", sa.Integer(), nullable=False, server_default="10"),
    )


def upgrade() -> None:
    for column in _columns():
        op.add_column("api_cameras", column)


def downgrade() -> None:
    with op.batch_alter_table("api_cameras") as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
