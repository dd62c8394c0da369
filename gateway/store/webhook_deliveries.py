"""Outgoing webhook deliveries: one row per (event, webhook URL), kept until delivered or given up.

The body is not stored: it is rebuilt from the event log each attempt, so every attempt of a
delivery sends the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select, update

from gateway.store.database import Database
from gateway.store.models import EventRow, WebhookDeliveryRow

DeliveryStatus = Literal["pending", "delivered", "failed"]
MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: int
    url: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    event_seq: int
    event_type: str
    event_data: dict[str, Any]
    event_at: datetime


def _delivery(row: WebhookDeliveryRow, event: EventRow) -> WebhookDelivery:
    status: DeliveryStatus = (
        "delivered" if row.status == "delivered" else "failed" if row.status == "failed"
        else "pending"
    )
    return WebhookDelivery(
        id=row.id, url=row.url, status=status, attempts=row.attempts,
        next_attempt_at=row.next_attempt_at, last_error=row.last_error,
        created_at=row.created_at, delivered_at=row.delivered_at, event_seq=event.seq,
        event_type=event.type, event_data=dict(event.data), event_at=event.created_at,
    )


class WebhookDeliveriesRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def last_recorded_seq(self, urls: Iterable[str]) -> dict[str, int]:
        """The newest event recorded for delivery to each URL (URLs with none are left out)."""
        wanted = list(set(urls))
        if not wanted:
            return {}
        async with self._db.read() as session:
            rows = await session.execute(
                select(WebhookDeliveryRow.url, func.max(WebhookDeliveryRow.event_seq))
                .where(WebhookDeliveryRow.url.in_(wanted))
                .group_by(WebhookDeliveryRow.url)
            )
            return {str(url): int(seq) for url, seq in rows if seq is not None}

    async def record(self, deliveries: Sequence[tuple[int, str]], now: datetime) -> int:
        """Add a pending delivery, due now, for each (event seq, URL)."""
        if not deliveries:
            return 0
        async with self._db.write() as session:
            session.add_all(
                WebhookDeliveryRow(
                    event_seq=seq, url=url, status="pending", attempts=0, next_attempt_at=now,
                    created_at=now,
                )
                for seq, url in deliveries
            )
        return len(deliveries)

    async def due(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        """Pending deliveries whose next attempt is due, oldest event first."""
        async with self._db.read() as session:
            rows = await session.execute(
                select(WebhookDeliveryRow, EventRow)
                .join(EventRow, EventRow.seq == WebhookDeliveryRow.event_seq)
                .where(WebhookDeliveryRow.status == "pending",
                       WebhookDeliveryRow.next_attempt_at <= now)
                .order_by(WebhookDeliveryRow.event_seq, WebhookDeliveryRow.id)
                .limit(limit)
            )
            return [_delivery(row, event) for row, event in rows]

    async def next_due_at(self) -> datetime | None:
        async with self._db.read() as session:
            value: datetime | None = await session.scalar(
                select(func.min(WebhookDeliveryRow.next_attempt_at))
                .where(WebhookDeliveryRow.status == "pending")
            )
            return value

    async def list_deliveries(self, url: str | None = None) -> list[WebhookDelivery]:
        async with self._db.read() as session:
            query = (
                select(WebhookDeliveryRow, EventRow)
                .join(EventRow, EventRow.seq == WebhookDeliveryRow.event_seq)
                .order_by(WebhookDeliveryRow.id)
            )
            if url is not None:
                query = query.where(WebhookDeliveryRow.url == url)
            return [_delivery(row, event) for row, event in await session.execute(query)]

    async def mark_delivered(self, delivery_id: int, attempts: int, now: datetime) -> None:
        await self._set(delivery_id, status="delivered", attempts=attempts, delivered_at=now,
                        next_attempt_at=None, last_error=None)

    async def mark_retry(
        self, delivery_id: int, attempts: int, error: str, next_attempt_at: datetime
    ) -> None:
        await self._set(delivery_id, attempts=attempts, last_error=error[:MAX_ERROR_CHARS],
                        next_attempt_at=next_attempt_at)

    async def mark_failed(self, delivery_id: int, attempts: int, error: str) -> None:
        await self._set(delivery_id, status="failed", attempts=attempts,
                        last_error=error[:MAX_ERROR_CHARS], next_attempt_at=None)

    async def _set(self, delivery_id: int, **values: Any) -> None:
        async with self._db.write() as session:
            await session.execute(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.id == delivery_id,
                       WebhookDeliveryRow.status == "pending")
                .values(**values)
            )
