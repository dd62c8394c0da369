"""Contact details: notes, tags, a kept address

Revision ID: 0009_contact_details
Revises: 0008_case_wrap_up

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009_contact_details"
down_revision: str | None = "0008_case_wrap_up"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("notes", sa.Text(), nullable=True))
    op.add_column("contacts", sa.Column("tags", sa.JSON(), nullable=True))
    op.add_column("contacts", sa.Column("street_address", sa.Text(), nullable=True))
    op.add_column("contacts", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("street_address")
        batch.drop_column("tags")
        batch.drop_column("notes")
