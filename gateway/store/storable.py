"""Text from the network made storable on every database, with the exact bytes kept beside it.

PostgreSQL's text types cannot hold U+0000, and neither PostgreSQL nor SQLite (through Python's
drivers) can take a lone UTF-16 surrogate, which a malformed UCS2 message decodes to unless it
is replaced. Stored text is therefore the decoded text with those characters, and only those,
replaced by visible stand-ins; every other character, control characters included, is kept.
What the network sent stays exact in each part's PDU and raw user data (message_parts.pdu,
message_parts.user_data), from which the original text can always be decoded again.
"""

from __future__ import annotations

import re

NUL_STAND_IN = "\u2400"  # SYMBOL FOR NULL
SURROGATE_STAND_IN = "\ufffd"  # REPLACEMENT CHARACTER
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` with U+0000 and lone surrogates replaced; unchanged (the same object) when it has
    none, which is nearly always. Two halves of a pair that sit side by side become the one
    character they encode."""
    if _UNSTORABLE.search(text) is None:
        return text
    if _SURROGATE.search(text) is not None:
        paired = text.encode("utf-16-le", "surrogatepass")
        text = paired.decode("utf-16-le", "replace")  # lone halves become U+FFFD
    return text.replace("\x00", NUL_STAND_IN)


def storable_or_none(text: str | None) -> str | None:
    return None if text is None else storable_text(text)
