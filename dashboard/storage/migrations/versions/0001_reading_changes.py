"""Reading changes: every change of a reading, as it happened.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reading_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), unique=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False, server_default=""),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manual", sa.Integer, nullable=False, server_default="0"),
        sa.Column("entered_by", sa.String(200)),
        sa.Column("valid_until", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_reading_changes_metric_unit_time", "reading_changes", ["metric", "unit", "observed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_reading_changes_metric_unit_time", "reading_changes")
    op.drop_table("reading_changes")
