"""Alembic environment of the api's tables.

Only online, programmatic runs: `api.db.Database._migrate` hands in a connection that is
already inside a transaction and holds the migration lock, so every step runs in that one
transaction, recorded in the api's own version table.
"""

from alembic import context

from api.db import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
