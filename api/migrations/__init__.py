"""Alembic migrations of the api's tables, run by `api.db.Database.open`.

A new revision is a file in `versions/` like `0001_api_tables.py`, whose `down_revision`
names the previous one; `Database.open` upgrades to the head.
"""
