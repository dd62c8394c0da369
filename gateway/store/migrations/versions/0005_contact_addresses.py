"""Contacts keep the address the network gave: its text, type of number and numbering plan

`contacts.number` stays the key a sender is matched by (E.164 when it can be read as a number);
`address`, `address_ton` and `address_npi` are what replies are sent to, exactly as received.
Existing contacts get the address their key implies (international for "+...", a sender name
for text, type unknown for other digits), which is what replies were sent to before.

Revision ID: 0005
Revises: 0004

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

TON_UNKNOWN, TON_INTERNATIONAL, TON_ALPHANUMERIC = 0, 1, 5
NPI_UNKNOWN, NPI_ISDN = 0, 1


def _implied(number: str) -> tuple[int, int]:
    digits = number[1:] if number.startswith("+") else number
    if not digits.isdigit():
        return TON_ALPHANUMERIC, NPI_UNKNOWN
    return (TON_INTERNATIONAL if number.startswith("+") else TON_UNKNOWN), NPI_ISDN


def upgrade() -> None:
    op.add_column("contacts", sa.Column("address", sa.String(length=32), nullable=True))
    op.add_column("contacts", sa.Column("address_ton", sa.Integer(), nullable=True))
    op.add_column("contacts", sa.Column("address_npi", sa.Integer(), nullable=True))
    contacts = sa.table(
        "contacts",
        sa.column("id", sa.Integer()),
        sa.column("number", sa.String()),
        sa.column("address", sa.String()),
        sa.column("address_ton", sa.Integer()),
        sa.column("address_npi", sa.Integer()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(contacts.c.id, contacts.c.number)).all()
    for contact_id, number in rows:
        ton, npi = _implied(number)
        bind.execute(
            contacts.update()
            .where(contacts.c.id == contact_id)
            .values(address=number, address_ton=ton, address_npi=npi)
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("address_npi")
        batch.drop_column("address_ton")
        batch.drop_column("address")
