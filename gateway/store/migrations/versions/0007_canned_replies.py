"""Canned replies, shared and personal

Revision ID: 0007_canned_replies
Revises: 0006_case_notes

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007_canned_replies"
down_revision: str | None = "0006_case_notes"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shortcut", sa.String(length=50), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"],
                                name=op.f("fk_canned_replies_owner_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_canned_replies_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
    )
    op.create_index(op.f("ix_canned_replies_owner_id"), "canned_replies", ["owner_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_canned_replies_owner_id"), table_name="canned_replies")
    op.drop_table("canned_replies")
