"""Reassembly of concatenated parts: any order, duplicates dropped, joined before decoding."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.sms import gsm7, ucs2
from gateway.sms.model import Deliver, Encoding, PduError, Submit

Part = Deliver | Submit


def missing_seqs(seqs: Iterable[int], total: int) -> tuple[int, ...]:
    """Sequence numbers 1..total not among `seqs`, ascending."""
    have = set(seqs)
    return tuple(seq for seq in range(1, total + 1) if seq not in have)


def missing_parts(parts: Iterable[Part]) -> tuple[int, ...]:
    """Sequence numbers not yet received of the one message these parts belong to."""
    ordered = _ordered(parts)
    first = ordered[0].concat
    if first is None:
        return ()
    return missing_seqs((p.concat.seq for p in ordered if p.concat is not None), first.total)


def _ordered(parts: Iterable[Part]) -> list[Part]:
    """Parts of one message by sequence number, the first copy of each kept."""
    by_seq: dict[int, Part] = {}
    key: tuple[int, int, int] | None = None
    count = 0
    for part in parts:
        count += 1
        c = part.concat
        if c is None:
            by_seq.setdefault(0, part)
            continue
        this = (c.ref, c.total, c.ref_bits)
        if key is None:
            key = this
        elif key != this:
            raise PduError("parts belong to different concatenated messages")
        by_seq.setdefault(c.seq, part)
    if count == 0:
        raise PduError("no parts to reassemble")
    if 0 in by_seq and len(by_seq) > 1:
        raise PduError("a part without a concatenation header mixed with concatenated parts")
    return [by_seq[seq] for seq in sorted(by_seq)]


def _decode_run(encoding: Encoding, chunks: list[bytes]) -> str:
    joined = b"".join(chunks)
    return gsm7.decode(joined) if encoding == "gsm7" else ucs2.decode(joined)


def reassemble(parts: Iterable[Part], *, allow_missing: bool = False) -> str | None:
    """The text of a message from its parts, or None if any part is undisplayable.

    GSM 7-bit septets and UCS2 octets are joined across parts before decoding, so an escape
    pair or a surrogate pair that another sender's phone split between parts survives.
    Raises PduError when parts are missing, unless `allow_missing` joins what is there.
    """
    ordered = _ordered(parts)
    first = ordered[0].concat
    if first is not None and not allow_missing:
        gaps = missing_seqs((p.concat.seq for p in ordered if p.concat is not None), first.total)
        if gaps:
            raise PduError(f"parts {', '.join(map(str, gaps))} of {first.total} are missing")
    if any(p.text is None for p in ordered):
        return None
    pieces: list[str] = []
    run: list[bytes] = []
    run_encoding: Encoding | None = None
    for part in ordered:
        enc = part.dcs.encoding
        if run_encoding is not None and enc != run_encoding:
            pieces.append(_decode_run(run_encoding, run))
            run = []
        run_encoding = enc
        run.append(part.user_data)
    if run_encoding is not None:
        pieces.append(_decode_run(run_encoding, run))
    return "".join(pieces)
