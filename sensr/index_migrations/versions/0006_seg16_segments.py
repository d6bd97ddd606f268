"""Segments: frames packed into per-camera segment objects. Each frame row says where its
bytes are (a sealed segment and offsets, or, until its segment is sealed, its place in
Kafka); `segments` lists the segment objects, written or being written. Rows of frames
stored before keep their own objects (`object_key`, `thumbnail_key`) and stay readable."""

import sqlalchemy as sa
from alembic import op

revision = "0006_seg16"
down_revision = "0005_ui15"

_FRAME_COLUMNS = (
    ("segment_key", sa.String()), ("segment_offset", sa.BigInteger()), ("thumbnail_offset", sa.BigInteger()),
    ("thumbnail_size", sa.BigInteger()), ("segment_thumbnails", sa.BigInteger()),
    ("kafka_partition", sa.Integer()), ("kafka_offset", sa.BigInteger()),
    ("thumbnail_partition", sa.Integer()), ("thumbnail_kafka_offset", sa.BigInteger()),
)


def upgrade() -> None:
    for name, kind in _FRAME_COLUMNS:
        op.add_column("frames", sa.Column(name, kind, nullable=True))
    op.create_index("frames_segment", "frames", ["segment_key"])
    op.create_table(
        "segments",
        sa.Column("segment_key", sa.String(), primary_key=True),
        sa.Column("camera", sa.String(), nullable=False),
        sa.Column("first_us", sa.BigInteger(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("segments_camera_last", "segments", ["camera", "last_us"])
    op.create_index("segments_unsealed", "segments", ["sealed", "created_us"])


def downgrade() -> None:
    op.drop_table("segments")
    op.drop_index("frames_segment", "frames")
    with op.batch_alter_table("frames") as batch:  # SQLite cannot drop a column in place
        for name, _ in reversed(_FRAME_COLUMNS):
            batch.drop_column(name)
