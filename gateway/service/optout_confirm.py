"""The one exception to "nothing is sent automatically": when an admin configured
`optout.confirmation_text`, a number that has just opted out gets that text once, on the line
its opt-out arrived on. Off by default."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway.bus import Publisher
from gateway.log import get_logger
from gateway.service.outbox import encode_text
from gateway.service.phone import cannot_reply_reason, reply_address
from gateway.service.settings import ChatSettings
from gateway.sms.model import PduError
from gateway.store.domain import Message
from gateway.store.errors import StoreError
from gateway.store.store import Store

log = get_logger(__name__)


class OptOutConfirmation:
    def __init__(
        self, *, store: Store, publisher: Publisher, settings: ChatSettings, text: str,
        wake_outbound: Callable[[], None],
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._settings = settings
        self._text = text
        self._wake_outbound = wake_outbound

    async def __call__(self, message: Message, now: datetime) -> None:
        """After routing an opt-out word: confirm only when this very message opted the
        contact out (routing stamped opted_out_at with `now`), so a repeated STOP gets
        nothing more."""
        if message.contact_id is None or message.phone is None:
            return
        contact = await self._store.contacts.get(message.contact_id)
        if not contact.opted_out or contact.opted_out_at != now:
            return
        # Sent where a reply to this contact goes: the address the network gave, as it gave it.
        to = reply_address(contact)
        if cannot_reply_reason(to) is not None:
            log.info("opt-out confirmation not sent: the sender is a name", message_id=message.id)
            return
        try:
            encoded = encode_text(self._settings, self._text, to)
            result = await self._store.outbound.queue_outbound(
                line_id=message.line_id, to=to, text=self._text, encoded=encoded,
                client_id=f"optout-confirmation-{message.id}", case_id=message.case_id,
                now=now,
            )
        except (PduError, StoreError) as error:
            log.warning("opt-out confirmation not queued", message_id=message.id,
                        error=str(error))
            return
        self._publisher.publish(result.events)
        if result.created:
            await self._store.accounts.audit(
                user_id=None, action="optout.confirmation", target=f"contact:{contact.id}",
                details={"message_id": result.message.id, "opt_out_message_id": message.id},
                now=now,
            )
            self._wake_outbound()
