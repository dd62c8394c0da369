"""Wrap-up code and summary of a case's close

Revision ID: 0008_case_wrap_up
Revises: 0007_canned_replies

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008_case_wrap_up"
down_revision: str | None = "0007_canned_replies"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("wrap_up", sa.String(length=64), nullable=True))
    op.add_column("cases", sa.Column("summary", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("summary")
        batch.drop_column("wrap_up")
