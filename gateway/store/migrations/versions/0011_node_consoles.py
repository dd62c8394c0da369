"""Cluster nodes say which agents have a console open on them (cluster-wide presence)

Revision ID: 0011_node_consoles
Revises: 0010_case_transfers

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011_node_consoles"
down_revision: str | None = "0010_case_transfers"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("cluster_nodes") as batch:
        batch.add_column(sa.Column("consoles", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cluster_nodes") as batch:
        batch.drop_column("consoles")
