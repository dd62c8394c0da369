"""Quarantine: messages that could not be stored, kept with their raw PDU and a reason

Revision ID: 0003
Revises: 0002_smpp

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002_smpp"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("pdu", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_quarantine_line_id_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    op.create_index(op.f("ix_quarantine_line_id"), "quarantine", ["line_id"], unique=False)
    op.create_index(op.f("ix_quarantine_created_at"), "quarantine", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_quarantine_created_at"), table_name="quarantine")
    op.drop_index(op.f("ix_quarantine_line_id"), table_name="quarantine")
    op.drop_table("quarantine")
