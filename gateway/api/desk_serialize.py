"""The JSON shapes of the agents' desk (see docs/API.md and openapi.yaml)."""

from __future__ import annotations

from typing import Any

from gateway.api.serialize import time
from gateway.service.notes import NoteView
from gateway.store.canned import CannedReply


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
