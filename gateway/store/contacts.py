"""Contacts: the public's phone numbers, normalised to E.164, and their opt-out state."""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import datetime

import phonenumbers
from sqlalchemy import Connection, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert, sql, tables
from gateway.store.database import Database, utc_now
from gateway.store.domain import Contact
from gateway.store.errors import InvalidPhoneNumberError, NotFoundError
from gateway.store.models import ContactRow


def normalise_number(raw: str, region: str) -> str:
    """A number typed by a person or an API client, as E.164; InvalidPhoneNumberError if not."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumberError(raw, str(error)) from error
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        names = {
            phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
            phonenumbers.ValidationResult.TOO_SHORT: "too short",
            phonenumbers.ValidationResult.TOO_LONG: "too long",
            phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "needs an area code",
            phonenumbers.ValidationResult.INVALID_LENGTH: "wrong length for its country",
        }
        raise InvalidPhoneNumberError(raw, names.get(reason, "not a phone number"))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)
def sender_number(raw: str, region: str) -> str:
    """A sender as the network gave it: E.164 when it is a number, else kept as sent
    (alphanumeric senders, short codes), so that no inbound message is refused."""
    try:
        return normalise_number(raw, region)
    except InvalidPhoneNumberError:
        return raw.strip()


TON_ALPHANUMERIC = 5
SHORT_CODE_DIGITS = range(3, 9)  # short codes are 3 to 8 digits


def match_key(address: str, ton: int | None, region: str) -> str:
    """The key a sender is matched by: E.164 for a number phonenumbers can read in `region`,
    else the address as sent (short codes, sender names, numbers too short to read)."""
    if ton == TON_ALPHANUMERIC:
        return address.strip()
    return sender_number(address, region)


Reachable = tuple[str, int, int]  # an address as the network gave it: text, TON, NPI

_SET_ADDRESS = (
    update(tables.contacts)
    .where(
        tables.contacts.c.id == bindparam("contact_id"),
        or_(
            tables.contacts.c.address.is_(None),
            tables.contacts.c.address != bindparam("a_address"),
            tables.contacts.c.address_ton != bindparam("a_ton"),
            tables.contacts.c.address_npi != bindparam("a_npi"),
        ),
    )
    .values(
        address=bindparam("a_address"),
        address_ton=bindparam("a_ton"),
        address_npi=bindparam("a_npi"),
    )
)


def remember_addresses(
    connection: Connection, ids: dict[str, int], addresses: dict[str, Reachable]
) -> None:
    """Keep, for each contact (by key), the address it last wrote from: replies go there."""
    rows = [
        {"contact_id": ids[key], "a_address": address, "a_ton": ton, "a_npi": npi}
        for key, (address, ton, npi) in addresses.items()
        if key in ids
    ]
    if rows:
        connection.execute(_SET_ADDRESS, rows)


async def ensure_contact(session: AsyncSession, number: str, now: datetime) -> ContactRow:
    """The contact with this (already normalised) number, created if new; race-free."""
    row = await session.scalar(select(ContactRow).where(ContactRow.number == number))
    if row is not None:
        return row
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(ContactRow)
        .values(number=number, opted_out=False, created_at=now)
        .on_conflict_do_nothing(index_elements=["number"])
    )
    row = await session.scalar(select(ContactRow).where(ContactRow.number == number))
    assert row is not None
    return row


_IDS = select(tables.contacts.c.number, tables.contacts.c.id).where(
    tables.contacts.c.number.in_(bindparam("numbers", expanding=True))
)
# The same for one number, without a list parameter (see gateway.store.sql).
_ID = select(tables.contacts.c.number, tables.contacts.c.id).where(
    tables.contacts.c.number == bindparam("number")
)
_INSERT_NEW = {
    "sqlite": sqlite.insert(tables.contacts).on_conflict_do_nothing(index_elements=["number"]),
    "postgresql": postgresql.insert(tables.contacts).on_conflict_do_nothing(
        index_elements=["number"]
    ),
}


def contact_ids(connection: Connection, numbers: Collection[str], now: datetime) -> dict[str, int]:
    """ensure_contact for many numbers, in an operation run by Database.run_write."""
    if not numbers:
        return {}
    wanted = sorted(numbers)
    found = _find_ids(connection, wanted)
    missing = [number for number in wanted if number not in found]
    if missing:
        sql.execute_many(
            connection,
            _INSERT_NEW[connection.dialect.name],
            [{"number": n, "opted_out": False, "created_at": now} for n in missing],
        )
        found.update(_find_ids(connection, missing))
    return found


def _find_ids(connection: Connection, numbers: list[str]) -> dict[str, int]:
    if len(numbers) == 1:
        found = sql.rows(connection, _ID, {"number": numbers[0]})
    else:
        found = sql.rows(connection, _IDS, {"numbers": numbers})
    return {number: contact_id for number, contact_id in found}


class ContactRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def normalise(self, raw: str) -> str:
        return normalise_number(raw, self._db.settings.default_region)

    async def ensure(
        self, number: str, now: datetime | None = None, *, dialled: Reachable | None = None
    ) -> Contact:
        """The contact for a number typed by a person; InvalidPhoneNumberError if not valid.

        With `dialled` (an address a person chose to write to), `number` is its key as given,
        and a contact without an address yet takes that one."""
        normalised = number if dialled is not None else self.normalise(number)
        async with self._db.write() as session:
            row = await ensure_contact(session, normalised, now or utc_now())
            if dialled is not None and row.address is None:
                row.address, row.address_ton, row.address_npi = dialled
            return convert.contact(row)

    async def find_by_number(self, number: str) -> Contact | None:
        """The contact a number belongs to, in any format the default region reads (or exactly
        as a sender wrote it: a short code, a name); None when there is none."""
        key = sender_number(number, self._db.settings.default_region)
        async with self._db.read() as session:
            row = await session.scalar(select(ContactRow).where(ContactRow.number == key))
            return convert.contact(row) if row is not None else None

    async def get(self, contact_id: int) -> Contact:
        async with self._db.read() as session:
            row = await session.get(ContactRow, contact_id)
            if row is None:
                raise NotFoundError("contact", contact_id)
            return convert.contact(row)
