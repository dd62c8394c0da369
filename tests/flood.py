"""A flood of waiting requests, written straight into the store: thousands of customers, each
with one received text and its pending request (every `closed_case_every`-th also with an earlier,
closed case), as routing leaves them. For tests and the flood benchmark (bench/flood.py), where
sending each text through the pipeline would take minutes; the rows are those the pipeline and
the router write."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select

from gateway.store import Store
from gateway.store.models import CaseRow, ContactRow, MessageRow, RequestRow


def flood_number(n: int) -> str:
    return f"+1555{n:07d}"


async def seed_waiting(
    store: Store,
    line_id: int,
    count: int,
    *,
    start: int,
    first_at: datetime,
    closed_case_every: int = 0,
    agent_id: int | None = None,
) -> list[int]:
    """`count` pending requests, one second apart from `first_at`; returns their ids, oldest
    first. Customers `flood_number(start)`... must not exist yet."""

    def write(connection: Connection) -> list[int]:
        contacts, messages, requests, cases = [], [], [], []
        numbers = [flood_number(n) for n in range(start, start + count)]
        for number in numbers:
            contacts.append({"number": number, "name": None, "opted_out": False,
                             "opted_out_at": None, "created_at": first_at})
        connection.execute(insert(ContactRow), contacts)
        ids = {number: contact_id for number, contact_id in connection.execute(
            select(ContactRow.number, ContactRow.id).where(ContactRow.number.in_(numbers))
        )}
        for offset, number in enumerate(numbers):
            at = first_at + timedelta(seconds=offset)
            n = start + offset
            if closed_case_every and agent_id is not None and n % closed_case_every == 0:
                cases.append({
                    "contact_id": ids[number], "line_id": line_id, "status": "closed",
                    "agent_id": agent_id, "address": None, "address_status": "not_found",
                    "opened_at": at - timedelta(days=1), "closed_at": at - timedelta(hours=23),
                    "closed_by": agent_id,
                })
            messages.append({
                "direction": "in", "line_id": line_id, "contact_id": ids[number],
                "text": f"help {n}", "encoding": "gsm7", "status": "received", "is_text": True,
                "placeholder_reason": None, "missing_parts": None, "parts_total": 1,
                "parts_received": 1, "complete": True, "concat_ref": None,
                "concat_ref_bits": None, "error": None, "scts": at, "received_at": at,
                "released_at": None, "queued_at": None, "sent_at": None, "delivered_at": None,
                "sort_at": at, "client_id": None, "case_id": None, "created_by": None,
            })
        if cases:
            connection.execute(insert(CaseRow), cases)
        connection.execute(insert(MessageRow), messages)
        message_ids = {contact_id: message_id for contact_id, message_id in connection.execute(
            select(MessageRow.contact_id, MessageRow.id)
            .where(MessageRow.contact_id.in_(list(ids.values())))
        )}
        for offset, number in enumerate(numbers):
            requests.append({
                "contact_id": ids[number], "line_id": line_id,
                "message_id": message_ids[ids[number]], "status": "pending", "overdue": False,
                "created_at": first_at + timedelta(seconds=offset), "answered_at": None,
                "answered_by": None, "case_id": None,
            })
        connection.execute(insert(RequestRow), requests)
        found = connection.execute(
            select(RequestRow.id)
            .where(RequestRow.contact_id.in_(list(ids.values())))
            .order_by(RequestRow.created_at, RequestRow.id)
        ).scalars().all()
        return [int(value) for value in found]

    return await store.db.run_write(write)
