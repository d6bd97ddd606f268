"""Alembic environment of the frame index.

Only online, programmatic runs are supported: `sensr.index.migrate` hands in a connection
that is already inside a transaction and holds the migration lock, so Alembic runs every
step in that one transaction and the index keeps its own version table.
"""

from alembic import context

from sensr.index import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
