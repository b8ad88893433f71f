"""Hourly and daily rollups of the reading changes, their state, and the index that reads
one series' changes in the order they take effect (dashboard/storage/rollups.py).

The rollups of a database that already holds changes are not computed here (a migration
must not run application code that later revisions may change): the state is left without
"built", so `dashboard.storage.rollups.needs_rebuild()` says so and `rebuild()` computes them. A new,
empty database is complete as it is.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _rollup_columns(period: list[sa.Column]) -> list[sa.Column]:  # type: ignore[type-arg]
    # primary key (metric, unit, period, key): a range of periods of one metric and unit is
    # one index range, whatever the keys; SQLite keeps the rows in that order (no rowid)
    return [
        sa.Column("metric", sa.String(64), primary_key=True),
        sa.Column("unit", sa.String(64), primary_key=True),
        *period,
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("last", sa.Text, nullable=False),
        sa.Column("mean", sa.Float),
        sa.Column("min", sa.Float),
        sa.Column("max", sa.Float),
        sa.Column("covered_seconds", sa.Float, nullable=False),
        sa.Column("samples", sa.Integer, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "hourly_rollups",
        *_rollup_columns([sa.Column("hour_start", sa.DateTime(timezone=True), primary_key=True)]),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "daily_rollups",
        *_rollup_columns([sa.Column("day", sa.Date, primary_key=True)]),
        sa.Column("day_start", sa.DateTime(timezone=True), nullable=False),
        sqlite_with_rowid=False,
    )
    state = op.create_table(
        "rollup_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    # one series' changes in the order they take effect (id breaks ties of one instant):
    # the upkeep's "change in force before" and "next change" are single index probes
    op.create_index("ix_reading_changes_series_time", "reading_changes",
                    ["metric", "unit", "key", "observed_at", "id"])
    empty = op.get_bind().execute(sa.text("SELECT 1 FROM reading_changes LIMIT 1")).first() is None
    if empty:
        op.bulk_insert(state, [{"name": "built", "value": "0004"}])


def downgrade() -> None:
    op.drop_index("ix_reading_changes_series_time", "reading_changes")
    op.drop_table("rollup_state")
    op.drop_table("daily_rollups")
    op.drop_table("hourly_rollups")
