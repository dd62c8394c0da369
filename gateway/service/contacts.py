"""Contacts as agents see them: a name, notes and tags per number, and an address kept from
the search. Looked up by the number in any format the default region understands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from gateway.service import access
from gateway.service.access import Principal
from gateway.service.errors import InvalidInputError, InvalidPhoneError, NotFoundError
from gateway.service.phone import normalise_phone
from gateway.service.settings import ChatSettings
from gateway.store.contact_details import ContactDetails
from gateway.store.contacts import sender_number
from gateway.store.store import Store

MAX_NAME_CHARS = 200
MAX_CONTACT_NOTES_CHARS = 4000
MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_ADDRESS_CHARS = 1000
UNSET = object()


def clean_tags(tags: Sequence[str]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for tag in tags:
        text = " ".join(tag.split())
        if not text or len(text) > MAX_TAG_CHARS:
            raise InvalidInputError(f"a tag is 1 to {MAX_TAG_CHARS} characters")
        if text.casefold() not in (t.casefold() for t in cleaned):
            cleaned.append(text)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInputError(f"a contact has at most {MAX_TAGS} tags")
    return tuple(cleaned)


def _text(value: str | None, limit: int, what: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInputError(f"{what} is at most {limit} characters")
    return value or None


class ContactService:
    def __init__(
        self, *, store: Store, settings: ChatSettings, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    async def _key(self, phone: str) -> str:
        """The stored number: an existing contact as it is stored (alphanumeric senders too),
        else the typed number as E.164."""
        found = await self._store.contact_details.find(
            sender_number(phone, self._settings.default_region))
        if found is not None:
            return found.number
        return normalise_phone(phone, self._settings.default_region)

    async def get(self, principal: Principal, phone: str) -> ContactDetails:
        access.require_scope(principal, "cases:read")
        try:
            key = await self._key(phone)
        except InvalidPhoneError as error:
            raise NotFoundError(f"no contact {phone!r}") from error
        contact = await self._store.contact_details.find(key)
        if contact is None:
            raise NotFoundError(f"no contact {phone!r}")
        return contact

    async def save(
        self, principal: Principal, phone: str, *, name: str | None, notes: str | None,
        tags: Sequence[str], address: str | object | None = UNSET,
    ) -> ContactDetails:
        """Name, notes and tags are replaced; the address only when given."""
        access.require_scope(principal, "cases:write")
        key = await self._key(phone)
        keep = address is not UNSET
        return await self._store.contact_details.save(
            key, name=_text(name, MAX_NAME_CHARS, "a name"),
            notes=_text(notes, MAX_CONTACT_NOTES_CHARS, "notes"), tags=clean_tags(tags),
            address=_text(address, MAX_ADDRESS_CHARS, "an address")
            if isinstance(address, str) else None,
            keep_address=keep, by=principal.user_id, now=self._clock(),
        )

    async def opted_out(self, principal: Principal, limit: int = 1000) -> list[ContactDetails]:
        """The numbers that opted out, for the admins' screen."""
        access.require_role(principal, "admin")
        access.require_scope(principal, "admin")
        return await self._store.contact_details.opted_out(limit)
