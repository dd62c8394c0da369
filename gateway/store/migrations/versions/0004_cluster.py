"""Cluster: nodes with their heartbeat, leases of lines and duties, NOTIFY of new events

Revision ID: 0004
Revises: 0003

On PostgreSQL a statement trigger on `events` sends NOTIFY gateway_events with the newest seq
it inserted; NOTIFY is transactional, so it is heard exactly when the events are visible.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

NOTIFY_CHANNEL = "gateway_events"


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("instance", sa.String(length=36), nullable=False),
        sa.Column("http_url", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_nodes")),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("node", sa.String(length=63), nullable=False),
        sa.Column("instance", sa.String(length=36), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"], name=op.f("fk_leases_line_id_lines")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
        sa.UniqueConstraint("line_id", name=op.f("uq_leases_line_id")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION gateway_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{NOTIFY_CHANNEL}', (SELECT max(seq)::text FROM new_rows));
                RETURN NULL;
            END $$
        """)
        op.execute("""
            CREATE TRIGGER events_notify AFTER INSERT ON events
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION gateway_notify_events()
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_notify ON events")
        op.execute("DROP FUNCTION IF EXISTS gateway_notify_events()")
    op.drop_table("leases")
    op.drop_table("cluster_nodes")
