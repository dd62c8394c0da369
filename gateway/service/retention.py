"""Retention: a daily job removes message text older than `retention.message_days` (counts and
case metadata stay), and `forget` erases a number on request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.log import get_logger
from gateway.service import access
from gateway.service.access import Principal
from gateway.service.errors import ConflictError, NotFoundError
from gateway.service.phone import normalise_phone
from gateway.store import errors as store_errors
from gateway.store.contacts import sender_number
from gateway.store.errors import StoreUnavailableError
from gateway.store.retention import Forgotten
from gateway.store.store import Store

log = get_logger(__name__)
RETENTION_INTERVAL_S = 24 * 3600.0
FIRST_RUN_AFTER_S = 60.0


class Retention:
    def __init__(
        self, *, store: Store, message_days: int | None, default_region: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self.message_days = message_days
        self._region = default_region
        self._clock = clock

    async def run_once(self) -> int:
        """Removes the text of messages older than `retention.message_days`; 0 when off."""
        if not self.message_days:
            return 0
        now = self._clock()
        removed = await self._store.retention.remove_text_before(
            now - timedelta(days=self.message_days), self.message_days, now)
        log.info("retention run", messages=removed, message_days=self.message_days)
        return removed

    async def run(self) -> None:
        """Daily, the first run a minute after start."""
        delay = FIRST_RUN_AFTER_S
        while True:
            await asyncio.sleep(delay)
            delay = RETENTION_INTERVAL_S
            with contextlib.suppress(StoreUnavailableError):
                await self.run_once()

    async def erase(self, principal: Principal, phone: str) -> Forgotten:
        """An admin's erasure from the console or the API: `forget`, audited under their name."""
        access.require_role(principal, "admin")
        access.require_scope(principal, "admin")
        return await self.forget(phone, principal.username, user_id=principal.user_id)

    async def forget(self, phone: str, by: str, *, user_id: int | None = None) -> Forgotten:
        """Erase everything held about a number (as typed, or as the network gave it);
        NotFoundError when nothing is held, ConflictError while it has an open case."""
        key = sender_number(phone, self._region)
        try:
            return await self._store.retention.forget(key, by, self._clock(), user_id)
        except store_errors.NotFoundError:
            try:
                normalised = normalise_phone(phone, self._region)
            except Exception as error:
                raise NotFoundError(f"no contact {phone!r}") from error
            if normalised == key:
                raise NotFoundError(f"no contact {phone!r}") from None
            try:
                return await self._store.retention.forget(normalised, by, self._clock(),
                                                          user_id)
            except store_errors.NotFoundError as error:
                raise NotFoundError(f"no contact {phone!r}") from error
        except store_errors.ConflictError as error:
            raise ConflictError(str(error)) from error
