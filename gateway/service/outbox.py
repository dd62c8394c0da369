"""The one way the service turns a text into the parts it queues: the sending settings (status
reports, validity, part limit, concatenation reference size) applied in one place, with a fresh
random concatenation reference for each message."""

from __future__ import annotations

import secrets

from gateway.service.settings import ChatSettings
from gateway.sms.model import Address, EncodedMessage
from gateway.sms.pdu import encode_submit


def encode_text(settings: ChatSettings, text: str, to: Address) -> EncodedMessage:
    """The SMS-SUBMIT parts of `text` to `to`; PduError when it cannot be written (too many
    parts, an address no PDU can carry)."""
    bits = settings.concat_ref_bits
    return encode_submit(
        text, to, ref=secrets.randbelow(1 << bits), ref_bits=bits,
        status_report=settings.status_reports, validity_minutes=settings.validity_minutes,
        max_parts=settings.max_parts,
    )
