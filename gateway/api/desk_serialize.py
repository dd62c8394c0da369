"""The JSON shapes of the agents' desk (see docs/API.md and openapi.yaml)."""

from __future__ import annotations

from typing import Any

from gateway.api.serialize import time
from gateway.service.notes import NoteView


def note(value: NoteView) -> dict[str, Any]:
    n = value.note
    return {
        "id": n.id, "case_id": n.case_id, "author": value.author, "author_id": n.author_id,
        "text": n.text, "at": time(n.created_at),
    }
