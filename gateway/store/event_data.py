"""The data of case and request events: one shape for each, whichever change logs them.

Clients (the console, webhooks) read these keys; `case_id` and `request_id` name the row.
"""

from __future__ import annotations

from typing import Any

from gateway.store.domain import Case, ChatRequest


def case_event_data(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id, "agent_id": case.agent_id, "phone": case.phone,
        "status": case.status, "line_id": case.line_id,
    }


def request_event_data(request: ChatRequest) -> dict[str, Any]:
    return {
        "request_id": request.id, "phone": request.phone, "line_id": request.line_id,
        "status": request.status, "case_id": request.case_id, "agent_id": request.answered_by,
    }
