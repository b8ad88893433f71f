"""Daily figures over opening hours, and values carried while they are in force.

Daily rows gain the figures a manager reads for a day: the time-weighted mean and the
maximum over the unit's opening hours (`open_mean`, `open_max`, `open_seconds`) and the
value in force at closing time (`at_close`). A value that is a bound (T3 beyond the
look-ahead horizon, "> 90 pv") keeps its `bound` in the raw changes and marks the rows it
was in force in, so the history says "> 90", never a plain 90 or nothing. The rules of which hours and days have rows
changed too (a value now counts while it is in force, across days): the state loses
"built", so `dashboard.storage.rollups.needs_rebuild()` asks for a rebuild of a database that holds
changes. An empty database is complete as it is.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reading_changes") as batch:
        batch.add_column(sa.Column("bound", sa.String(8)))
    with op.batch_alter_table("hourly_rollups") as batch:
        batch.add_column(sa.Column("bound", sa.String(8)))
    with op.batch_alter_table("daily_rollups") as batch:
        batch.add_column(sa.Column("bound", sa.String(8)))
        batch.add_column(sa.Column("open_mean", sa.Float))
        batch.add_column(sa.Column("open_max", sa.Float))
        batch.add_column(sa.Column("at_close", sa.Text))
        batch.add_column(sa.Column("open_seconds", sa.Float))
    has_changes = op.get_bind().execute(sa.text("SELECT 1 FROM reading_changes LIMIT 1")).first()
    if has_changes is not None:
        op.execute(sa.text("DELETE FROM rollup_state WHERE name = 'built'"))


def downgrade() -> None:
    with op.batch_alter_table("reading_changes") as batch:
        batch.drop_column("bound")
    with op.batch_alter_table("hourly_rollups") as batch:
        batch.drop_column("bound")
    with op.batch_alter_table("daily_rollups") as batch:
        batch.drop_column("bound")
        batch.drop_column("open_seconds")
        batch.drop_column("at_close")
        batch.drop_column("open_max")
        batch.drop_column("open_mean")
