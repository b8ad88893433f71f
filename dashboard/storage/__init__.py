"""Storage: the Redis live store (and the embedded redis-server of the default), the SQL
history (reading changes, hourly and daily rollups, the regional history, the audit log) and
its Alembic migrations."""
