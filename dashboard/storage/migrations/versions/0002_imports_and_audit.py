"""Workbook imports and the audit log.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied", sa.Integer, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("archived", sa.String(500)),
    )
    # the same content is applied at most once, even when uploaded twice at the same moment
    op.create_index("ux_imports_applied_sha", "imports", ["sha256"], unique=True,
                    sqlite_where=sa.text("applied = 1"), postgresql_where=sa.text("applied = 1"))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_index("ux_imports_applied_sha", "imports")
    op.drop_table("imports")
