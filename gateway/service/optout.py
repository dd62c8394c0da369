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
    "REVOKE",
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


def _cleaned(text: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", text).split()).casefold()


def has_opt_out_hint(text: str | None, words: Iterable[str] = DEFAULT_OPT_OUT_WORDS) -> bool:
    """True when an opt-out word is in a longer message ("stop, thank you"): worth a hint to
    the agent, never an opt-out."""
    if not text or is_opt_out(text, words):
        return False
    padded = f" {_cleaned(text)} "
    return any(f" {' '.join(word.split()).casefold()} " in padded for word in words)
