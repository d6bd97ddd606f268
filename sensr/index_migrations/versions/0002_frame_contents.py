"""Content claims: which frame holds each camera's distinct frame content, for the
catalog worker's duplicate rule (`catalog_worker.dedup`)."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "frame_contents",
        sa.Column("camera", sa.String(), primary_key=True),
        sa.Column("digest", sa.LargeBinary(), primary_key=True),
        sa.Column("frame_id", sa.String(), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("frame_contents_frame", "frame_contents", ["frame_id"])


def downgrade() -> None:
    op.drop_index("frame_contents_frame", table_name="frame_contents")
    op.drop_table("frame_contents")
