"""Case transfers to another agent or back to the queue

Revision ID: 0010_case_transfers
Revises: 0009_contact_details

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010_case_transfers"
down_revision: str | None = "0009_contact_details"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "case_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_agent_id", sa.Integer(), nullable=True),
        sa.Column("to_agent_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_case_transfers_case_id_cases")),
        sa.ForeignKeyConstraint(["from_agent_id"], ["users.id"],
                                name=op.f("fk_case_transfers_from_agent_id_users")),
        sa.ForeignKeyConstraint(["to_agent_id"], ["users.id"],
                                name=op.f("fk_case_transfers_to_agent_id_users")),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"],
                                name=op.f("fk_case_transfers_request_id_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transfers")),
    )
    op.create_index("ix_case_transfers_case_id_status", "case_transfers", ["case_id", "status"])
    op.create_index(op.f("ix_case_transfers_request_id"), "case_transfers", ["request_id"])
    op.create_index(
        "uq_case_transfers_pending_case_id", "case_transfers", ["case_id"], unique=True,
        sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("uq_case_transfers_pending_case_id", table_name="case_transfers",
                  sqlite_where=sa.text("status = 'pending'"),
                  postgresql_where=sa.text("status = 'pending'"))
    op.drop_index(op.f("ix_case_transfers_request_id"), table_name="case_transfers")
    op.drop_index("ix_case_transfers_case_id_status", table_name="case_transfers")
    op.drop_table("case_transfers")
