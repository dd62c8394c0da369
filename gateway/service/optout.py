"""Opt-out words: a customer's STOP flags the contact; the agent is warned before the next Send."""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_OPT_OUT_WORDS: tuple[str, ...] = (
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "OPT OUT",
)

_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)


def is_opt_out(text: str | None, words: Iterable[str] = DEFAULT_OPT_OUT_WORDS) -> bool:
    """True when the whole message, ignoring case, spacing and punctuation, is an opt-out word.

    Only a message that is just the word counts: "please don't stop helping me" is a conversation.
    """
    if not text:
        return False
    cleaned = " ".join(_PUNCTUATION.sub(" ", text).split()).casefold()
    if not cleaned:
        return False
    return any(cleaned == " ".join(word.split()).casefold() for word in words)
