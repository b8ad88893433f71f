"""Access to care case by case (issue 15): cases, their judgements by the dated rules, the
reference figures imported from Sotkanet, and the nightly forecasts.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("case_key", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("age_group", sa.String(8), nullable=False),
        sa.Column("urgent", sa.Integer, nullable=False),
        sa.Column("contact", sa.Date),
        sa.Column("assessment", sa.Date),
        sa.Column("decision", sa.Date),
        sa.Column("start", sa.Date),
        sa.Column("days_to_start", sa.Integer),
        sa.Column("start_week", sa.Date),
        sa.Column("start_month", sa.Date),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_access_cases_source_key", "access_cases", ["source", "case_key"], unique=True)
    op.create_index("ix_access_cases_unit_week", "access_cases", ["unit", "start_week"])
    op.create_index("ix_access_cases_unit_month", "access_cases", ["unit", "start_month"])
    op.create_table(
        "access_judgements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("age_group", sa.String(8), nullable=False),
        sa.Column("urgent", sa.Integer, nullable=False),
        sa.Column("measure", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(60)),
        sa.Column("begin", sa.Date, nullable=False),
        sa.Column("end", sa.Date),
        sa.Column("deadline", sa.Date),
        sa.Column("within", sa.Integer),
        sa.Column("days", sa.Integer),
        sa.Column("end_week", sa.Date),
        sa.Column("end_month", sa.Date),
    )
    op.create_index("ix_access_judgements_case_id", "access_judgements", ["case_id"])
    op.create_index("ix_access_judgements_unit_week", "access_judgements", ["unit", "end_week"])
    op.create_index("ix_access_judgements_unit_month", "access_judgements", ["unit", "end_month"])
    op.create_index("ix_access_judgements_unit_deadline", "access_judgements", ["unit", "deadline"])
    op.create_table(
        "access_reference",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("indicator", sa.String(300), nullable=False),
        sa.Column("indicator_id", sa.String(40)),
        sa.Column("region", sa.String(200), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("source_file", sa.String(300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_access_reference", "access_reference", ["indicator", "region", "period"], unique=True)
    op.create_table(
        "access_forecasts",
        sa.Column("unit", sa.String(64), primary_key=True),
        sa.Column("series", sa.String(32), primary_key=True),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("access_forecasts")
    op.drop_table("access_reference")
    op.drop_table("access_judgements")
    op.drop_table("access_cases")
