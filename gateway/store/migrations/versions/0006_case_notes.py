"""Internal notes on cases

Revision ID: 0006_case_notes
Revises: 0005

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_case_notes"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "case_notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_case_notes_case_id_cases")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_case_notes_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    op.create_index("ix_case_notes_case_id_id", "case_notes", ["case_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_case_notes_case_id_id", table_name="case_notes")
    op.drop_table("case_notes")
