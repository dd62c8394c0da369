"""Wrap-up: the code (from `cases.wrap_up_codes`) and summary an agent gives when closing."""

from __future__ import annotations

from gateway.service.errors import InvalidInputError
from gateway.service.settings import ChatSettings

MAX_SUMMARY_CHARS = 4000


def check_wrap_up(
    settings: ChatSettings, wrap_up: str | None, summary: str | None
) -> tuple[str | None, str | None]:
    """The code and summary to store; InvalidInputError `wrap_up_required` or
    `unknown_wrap_up` when the close must be refused."""
    code = wrap_up.strip() if wrap_up is not None else None
    if not code:
        code = None
    if code is None and settings.require_wrap_up:
        raise InvalidInputError(
            "choose a wrap-up code to close this case: " + ", ".join(settings.wrap_up_codes),
            code="wrap_up_required",
        )
    if code is not None and code not in settings.wrap_up_codes:
        known = ", ".join(settings.wrap_up_codes) or "none are configured"
        raise InvalidInputError(f"unknown wrap-up code {code!r} (known: {known})",
                                code="unknown_wrap_up")
    text = summary.strip() if summary is not None else None
    if text is not None and len(text) > MAX_SUMMARY_CHARS:
        raise InvalidInputError(f"a summary is at most {MAX_SUMMARY_CHARS} characters")
    return code, text or None
