"""SMPP lines: the SMSC's message id of each submitted part (delivery receipts name it), and an
index to find a redelivered inbound PDU by its hash

Revision ID: 0002_smpp
Revises: 0001

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_smpp"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("message_parts") as batch:
        batch.add_column(sa.Column("smsc_message_id", sa.String(length=65), nullable=True))
    op.create_index(
        "ix_message_parts_receipt", "message_parts", ["line_id", "smsc_message_id"], unique=False
    )
    op.create_index(
        "ix_message_parts_redelivery", "message_parts", ["line_id", "pdu_hash"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_message_parts_redelivery", table_name="message_parts")
    op.drop_index("ix_message_parts_receipt", table_name="message_parts")
    with op.batch_alter_table("message_parts") as batch:
        batch.drop_column("smsc_message_id")
