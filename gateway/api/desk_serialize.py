"""The JSON shapes of the agents' desk (see docs/API.md and openapi.yaml)."""

from __future__ import annotations

from typing import Any

from gateway.api.serialize import time
from gateway.service.availability import PresenceView
from gateway.service.floor import Floor
from gateway.service.notes import NoteView
from gateway.service.search import SearchResult
from gateway.store.canned import CannedReply
from gateway.store.contact_details import ContactDetails
from gateway.store.floor import FloorFigures
from gateway.store.transfers import Transfer


def note(value: NoteView) -> dict[str, Any]:
    n = value.note
    return {
        "id": n.id, "case_id": n.case_id, "author": value.author, "author_id": n.author_id,
        "text": n.text, "at": time(n.created_at),
    }


def canned(value: CannedReply) -> dict[str, Any]:
    return {
        "id": value.id, "title": value.title, "text": value.text, "shortcut": value.shortcut,
        "shared": value.shared, "updated_at": time(value.updated_at),
    }


def contact(value: ContactDetails) -> dict[str, Any]:
    return {
        "phone": value.number, "name": value.name, "notes": value.notes,
        "tags": list(value.tags), "address": value.address, "opted_out": value.opted_out,
        "opted_out_at": time(value.opted_out_at), "updated_at": time(value.updated_at),
    }


def transfer(value: Transfer) -> dict[str, Any]:
    return {
        "id": value.id, "case_id": value.case_id, "from_agent_id": value.from_agent_id,
        "to_agent_id": value.to_agent_id, "queue": value.request_id is not None,
        "request_id": value.request_id, "note": value.note, "status": value.status,
        "created_at": time(value.created_at), "answered_at": time(value.answered_at),
    }


def presence(value: PresenceView) -> dict[str, Any]:
    return {
        "status": value.status, "since": time(value.since), "until": time(value.until),
        "online": value.online, "open_cases": value.open_cases,
        "max_open_cases": value.max_open_cases, "at_capacity": value.at_capacity,
        "can_take": value.can_take,
    }


def search_result(value: SearchResult) -> dict[str, Any]:
    hit = value.hit
    return {
        "case_id": hit.case_id, "phone": hit.phone, "contact_name": hit.contact_name,
        "status": hit.status, "agent": value.agent, "opened_at": time(hit.opened_at),
        "closed_at": time(hit.closed_at), "wrap_up": hit.wrap_up, "matched": hit.matched,
        "snippet": hit.snippet,
    }


def figures(value: FloorFigures) -> dict[str, Any]:
    return {
        "since": time(value.since), "requests": value.requests, "answered": value.answered,
        "abandoned": value.abandoned, "waiting": value.waiting,
        "median_answer_s": value.median_answer_s,
        "median_first_reply_s": value.median_first_reply_s,
        "cases_opened": value.cases_opened, "cases_closed": value.cases_closed,
    }


def floor(value: Floor) -> dict[str, Any]:
    return {
        "queue": {"count": value.queue_count, "longest_wait_s": value.longest_wait_s},
        "open_cases": value.open_cases, "customers_waiting": value.customers_waiting,
        "agents": [
            {"id": a.user_id, "username": a.username, "role": a.role,
             "presence": presence(a.presence),
             "oldest_waiting_since": time(a.oldest_waiting_since)}
            for a in value.agents
        ],
    }
