"""An admin's test send (`sms-gateway send`): one text to a number on a named line, committed to
the outbound queue as an agent's Send is, with no case, and audited.

The running daemon does it when asked on its control socket; the command does it itself, on the
same code, when no daemon is running (the message then goes out on the daemon's next start).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.bus import Publisher
from gateway.service.errors import InvalidInputError, NotFoundError
from gateway.service.outbox import encode_text
from gateway.service.phone import dial_address, own_line_reason
from gateway.service.settings import ChatSettings
from gateway.sms.model import PduError
from gateway.store import errors as store_errors
from gateway.store.domain import Message
from gateway.store.store import Store

FINAL = frozenset({"delivered", "failed", "expired", "unknown"})


@dataclass(frozen=True, slots=True)
class AdminSend:
    store: Store
    publisher: Publisher
    settings: ChatSettings
    clock: Callable[[], datetime]
    wake_outbound: Callable[[], None]
    # Line name -> id, in configuration order (the first is the default line).
    lines: Mapping[str, int]

    async def send(self, *, to: str, text: str, line: str | None = None) -> Message:
        """Queue `text` to the number `to` (as a person types it: local, international or a short
        code) on `line` (default: the first configured here). InvalidInputError when the number
        or the text cannot be sent, NotFoundError for a line that does not exist."""
        line_id = await self._line_id(line)
        if not text.strip():
            raise InvalidInputError("the message is empty")
        region = self.settings.default_region
        reason = own_line_reason(to, await self.store.lines.list_all(), region)
        if reason is not None:
            raise InvalidInputError(reason, code="own_number")
        address = dial_address(to, region)
        try:
            encoded = encode_text(self.settings, text, address)
        except PduError as error:
            raise InvalidInputError(f"cannot send to {address.number}: {error.reason}") from error
        now = self.clock()
        result = await self.store.outbound.queue_outbound(
            line_id=line_id, to=address, text=text, encoded=encoded, now=now
        )
        self.publisher.publish(result.events)
        await self.store.accounts.audit(
            user_id=None, action="message.send", target=f"line:{line_id}",
            details={"message_id": result.message.id, "parts": len(encoded.parts),
                     "by": "sms-gateway send"},
            now=now,
        )
        self.wake_outbound()
        return result.message

    async def outcome(self, message_id: int) -> dict[str, Any]:
        """What `send --wait` prints of a message: its status and each part's, and whether every
        part is final (delivered, failed, expired or unknown; also sent when no status report
        was asked for)."""
        try:
            message = await self.store.messages.get(message_id)
        except store_errors.NotFoundError as error:
            raise NotFoundError(f"no message {message_id}") from error
        final = FINAL if self.settings.status_reports else FINAL | {"sent"}
        return {
            "message_id": message.id, "status": message.status,
            "parts": [{"seq": p.seq, "status": p.status, "tp_mr": p.tp_mr, "error": p.last_error}
                      for p in message.parts],
            "done": all(p.status in final for p in message.parts),
        }

    async def _line_id(self, name: str | None) -> int:
        """The named line, this node's or (in a cluster) another's, whose node then sends it;
        without a name, the first line configured here."""
        if name is None:
            if not self.lines:
                raise NotFoundError("no line is configured")
            return next(iter(self.lines.values()))
        if name in self.lines:
            return self.lines[name]
        line = await self.store.lines.find_by_name(name)
        if line is None:
            every = await self.store.lines.list_all()
            known = sorted({*self.lines, *(line.name for line in every)})
            raise NotFoundError(f"no line named {name!r}; the lines are: {', '.join(known)}")
        return line.id
