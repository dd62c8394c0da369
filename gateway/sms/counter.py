"""The composer's counter: encoding, parts, and room left, computed by the real splitter."""

from __future__ import annotations

from typing import Literal

from gateway.sms import gsm7, split
from gateway.sms.model import SegmentCount


def count_segments(
    text: str, max_parts: int | None = None, *, ref_bits: Literal[8, 16] = 8
) -> SegmentCount:
    """What sending `text` takes. The parts follow the same cut encode_submit makes, so a
    character pushed to the next part (an escape pair, an emoji) is counted as it will be."""
    cut = split.split_text(text, "auto", ref_bits)
    parts = len(cut.chunks)
    used = cut.units[-1]
    return SegmentCount(
        encoding=cut.encoding,
        parts=parts,
        units_used=used,
        units_left=cut.capacity - used,
        characters=len(text),
        ucs2_characters=gsm7.non_gsm7_characters(text),
        max_parts=max_parts,
        too_long=max_parts is not None and parts > max_parts,
    )
