"""The camera's own clock: `frames.camera_time_us`, the time a camera wrote into its file
name (`SensrCam2010102011073001.jpg`), as ingest_ftp parsed it into the frame event; null
where the camera said nothing."""

import sqlalchemy as sa
from alembic import op

revision = "0005_ui15"
down_revision = "0004_notifier"


def upgrade() -> None:
    op.add_column("frames", sa.Column("camera_time_us", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("frames") as batch:  # SQLite cannot drop a column in place
        batch.drop_column("camera_time_us")
