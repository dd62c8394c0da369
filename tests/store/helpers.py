"""Builders for the values the pipeline hands the store."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from gateway.sms.model import Concat, EncodedMessage, EncodedPart
from gateway.store import InboundPart

from .conftest import T0

CUSTOMER = "+15551234567"


def sms(
    text: str | None = "hello",
    *,
    sender: str = CUSTOMER,
    scts: datetime = T0,
    ref: int | None = None,
    seq: int = 1,
    total: int = 1,
    bits: Literal[8, 16] = 8,
    encoding: str = "gsm7",
    user_data: bytes | None = None,
    reason: str | None = None,
) -> InboundPart:
    """One received part; its `pdu` is a stand-in that differs whenever the content differs."""
    concat = Concat(ref=ref, total=total, seq=seq, ref_bits=bits) if ref is not None else None
    if user_data is None:
        user_data = (text or "").encode("utf-16-be" if encoding == "ucs2" else "utf-8")
    identity = repr((sender, scts.isoformat(), ref, seq, total, bits, encoding, user_data))
    pdu = "07911326040000F0" + hashlib.sha256(identity.encode()).hexdigest().upper()
    return InboundPart(
        pdu=pdu, sender=sender, scts=scts, encoding=encoding, text=text, user_data=user_data,
        concat=concat, placeholder_reason=reason,
    )


def encoded(*texts: str, encoding: Literal["gsm7", "ucs2", "8bit"] = "gsm7") -> EncodedMessage:
    """An outbound message as the codec would split it (PDUs are stand-ins)."""
    total = len(texts)
    parts = tuple(
        EncodedPart(
            pdu="0031000B915155214365F70000FF" + text.encode().hex().upper(),
            tpdu_length=14 + len(text),
            text=text,
            concat=Concat(ref=42, total=total, seq=seq) if total > 1 else None,
        )
        for seq, text in enumerate(texts, start=1)
    )
    return EncodedMessage(encoding=encoding, parts=parts)
