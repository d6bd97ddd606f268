"""Accounts: which tokens are browser sessions (the account page lists API tokens apart),
and each user's time zone (local days and hours)."""

import sqlalchemy as sa
from alembic import op

revision = "0005_downloads"
down_revision = "0004_clips"


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as table:
        table.add_column(sa.Column("kind", sa.String(), nullable=False, server_default="api"))
    with op.batch_alter_table("api_users") as table:
        table.add_column(sa.Column("time_zone", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_users") as table:
        table.drop_column("time_zone")
    with op.batch_alter_table("api_tokens") as table:
        table.drop_column("kind")
