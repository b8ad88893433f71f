"""Indexes that serve the access page's queries from the index alone (bench/access.py: 1.5 M
cases, 3 M judgements): the grouping columns right after the period, so that both databases
aggregate while reading the index in order; the open cases and the late ones in partial
indexes; and indexes by period first for the all-units views.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

J = ["service", "age_group", "measure", "rule_id", "within", "days", "urgent", "end"]
C = ["service", "age_group", "days_to_start", "urgent", "start"]


def upgrade() -> None:
    for name in ("ix_access_judgements_unit_week", "ix_access_judgements_unit_month",
                 "ix_access_judgements_unit_deadline"):
        op.drop_index(name, table_name="access_judgements")
    for name in ("ix_access_cases_unit_week", "ix_access_cases_unit_month"):
        op.drop_index(name, table_name="access_cases")
    op.create_index("ix_access_judgements_unit_week", "access_judgements", ["unit", "end_week", *J])
    op.create_index("ix_access_judgements_unit_month", "access_judgements", ["unit", "end_month", *J])
    op.create_index("ix_access_judgements_week", "access_judgements", ["end_week", "unit", *J])
    op.create_index("ix_access_judgements_unit_deadline", "access_judgements", ["unit", "deadline"],
                    sqlite_where=sa.text('"end" IS NULL'), postgresql_where=sa.text('"end" IS NULL'))
    op.create_index("ix_access_judgements_late", "access_judgements", ["end", "unit", "deadline"],
                    sqlite_where=sa.text("within = 0"), postgresql_where=sa.text("within = 0"))
    op.create_index("ix_access_cases_unit_week", "access_cases", ["unit", "start_week", *C])
    op.create_index("ix_access_cases_unit_month", "access_cases", ["unit", "start_month", *C])
    op.create_index("ix_access_cases_week", "access_cases", ["start_week", "unit", *C])


def downgrade() -> None:
    for name in ("ix_access_judgements_unit_week", "ix_access_judgements_unit_month", "ix_access_judgements_week",
                 "ix_access_judgements_unit_deadline", "ix_access_judgements_late"):
        op.drop_index(name, table_name="access_judgements")
    for name in ("ix_access_cases_unit_week", "ix_access_cases_unit_month", "ix_access_cases_week"):
        op.drop_index(name, table_name="access_cases")
    op.create_index("ix_access_judgements_unit_week", "access_judgements", ["unit", "end_week"])
    op.create_index("ix_access_judgements_unit_month", "access_judgements", ["unit", "end_month"])
    op.create_index("ix_access_judgements_unit_deadline", "access_judgements", ["unit", "deadline"])
    op.create_index("ix_access_cases_unit_week", "access_cases", ["unit", "start_week"])
    op.create_index("ix_access_cases_unit_month", "access_cases", ["unit", "start_month"])
