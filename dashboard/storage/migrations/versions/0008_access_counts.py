"""The access page's counts (dashboard/storage/history.py AccessClosedCount, AccessStartCount): the
judgements and the case starts added up by the days of a week in one month and everything the
page groups by, their calendar days as a histogram, so that a quarter of all units reads some
ten thousand rows, not the 400,000 judgements under them (bench/access.py). They are made
from the judgements: this migration forgets which rules the judgements were made with, so the
next command that opens the database judges the cases again and makes the counts
(`ensure_judged`, as after a change of `[[access.rules]]`).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

def segment() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day_from", sa.Date, nullable=False),
        sa.Column("day_to", sa.Date, nullable=False),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("age_group", sa.String(8), nullable=False),
        sa.Column("urgent", sa.Integer, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "access_closed_counts", *segment(),
        sa.Column("measure", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(60)),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("within_n", sa.Integer, nullable=False),
        sa.Column("days", sa.Text, nullable=False),
    )
    op.create_index("ix_access_closed_counts_day", "access_closed_counts", ["day_from", "unit", "day_to"])
    op.create_table(
        "access_start_counts", *segment(),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("days", sa.Text, nullable=False),
    )
    op.create_index("ix_access_start_counts_day", "access_start_counts", ["day_from", "unit", "day_to"])
    op.execute("DELETE FROM rollup_state WHERE name = 'access_rules'")


def downgrade() -> None:
    op.drop_index("ix_access_start_counts_day", table_name="access_start_counts")
    op.drop_table("access_start_counts")
    op.drop_index("ix_access_closed_counts_day", table_name="access_closed_counts")
    op.drop_table("access_closed_counts")
