"""`sms-gateway pdu encode|decode`: the codec on the command line, printing JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

from gateway.sms import (
    Deliver,
    PduError,
    StatusReport,
    Submit,
    decode_pdu,
    encode_submit,
    missing_parts,
    reassemble,
)

EXIT_BAD_INPUT = 2


class _OneLineErrorParser(argparse.ArgumentParser):
    """Usage mistakes end as one line on stderr with exit status 2, like bad PDUs do."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pdu", help="encode or decode SMS PDUs", description="Encode or decode SMS PDUs as JSON."
    )
    actions = parser.add_subparsers(
        dest="pdu_action", required=True, metavar="ACTION", parser_class=_OneLineErrorParser
    )

    enc = actions.add_parser(
        "encode", help="text -> SMS-SUBMIT PDUs for AT+CMGS", description="Print SUBMIT parts."
    )
    enc.add_argument("--to", required=True, help="destination: +international, national, short")
    enc.add_argument("--encoding", choices=("auto", "gsm7", "ucs2"), default="auto")
    enc.add_argument("--ref", type=int, default=0, help="concatenation reference")
    enc.add_argument("--ref-bits", type=int, choices=(8, 16), default=8)
    enc.add_argument("--status-report", action="store_true", help="request a status report")
    enc.add_argument("--max-parts", type=int, default=10)
    enc.add_argument("--validity-minutes", type=int, default=None)
    enc.add_argument("text", metavar="TEXT")
    enc.set_defaults(func=run_encode)

    dec = actions.add_parser(
        "decode",
        help="PDUs as AT+CMGR/+CMGL show them -> JSON",
        description="Decode PDUs that start with the SMSC field.",
    )
    dec.add_argument("--join", action="store_true", help="reassemble concatenated parts")
    dec.add_argument("pdus", nargs="+", metavar="HEX")
    dec.set_defaults(func=run_decode)


def _fail(message: str) -> int:
    print(f"sms-gateway pdu: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run_encode(args: argparse.Namespace) -> int:
    try:
        message = encode_submit(
            args.text,
            args.to,
            encoding=args.encoding,
            ref=args.ref,
            ref_bits=args.ref_bits,
            status_report=args.status_report,
            validity_minutes=args.validity_minutes,
            max_parts=args.max_parts,
        )
    except PduError as exc:
        return _fail(exc.reason)
    out = {
        "encoding": message.encoding,
        "parts": [{"pdu": p.pdu, "tpdu_length": p.tpdu_length} for p in message.parts],
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


def describe(pdu: Deliver | Submit | StatusReport) -> dict[str, Any]:
    """The JSON shape of one decoded PDU."""
    smsc = pdu.smsc.number if pdu.smsc is not None else None
    if isinstance(pdu, StatusReport):
        return {
            "type": "status-report",
            "number": pdu.recipient.number,
            "text": None,
            "encoding": None,
            "timestamp": pdu.scts.isoformat(),
            "discharge_time": pdu.discharge_time.isoformat(),
            "concat": None,
            "mr": pdu.mr,
            "status": pdu.outcome,
            "st": pdu.status,
            "smsc": smsc,
        }
    address = pdu.originator if isinstance(pdu, Deliver) else pdu.destination
    out: dict[str, Any] = {
        "type": "deliver" if isinstance(pdu, Deliver) else "submit",
        "number": address.number,
        "number_type": address.type.value,
        "text": pdu.text,
        "encoding": pdu.dcs.encoding,
        "timestamp": pdu.scts.isoformat() if isinstance(pdu, Deliver) else None,
        "concat": (
            None
            if pdu.concat is None
            else {"ref": pdu.concat.ref, "total": pdu.concat.total, "seq": pdu.concat.seq}
        ),
        "dcs": pdu.dcs.raw,
        "message_class": pdu.dcs.message_class,
        "smsc": smsc,
    }
    if pdu.undisplayable_reason is not None:
        out["undisplayable"] = pdu.undisplayable_reason
    if isinstance(pdu, Submit):
        out["mr"] = pdu.mr
        out["status_report_request"] = pdu.status_report_request
    return out


def _join(decoded: list[Deliver | Submit | StatusReport]) -> dict[str, Any]:
    groups: dict[tuple[Any, ...], list[Deliver | Submit]] = {}
    reports: list[dict[str, Any]] = []
    for index, pdu in enumerate(decoded):
        if isinstance(pdu, StatusReport):
            reports.append(describe(pdu))
            continue
        number = pdu.originator.number if isinstance(pdu, Deliver) else pdu.destination.number
        c = pdu.concat
        key = (type(pdu), number) + ((c.ref, c.total, c.ref_bits) if c else ("single", index))
        groups.setdefault(key, []).append(pdu)
    messages = []
    for key, parts in groups.items():
        missing = missing_parts(parts)
        messages.append(
            {
                "number": key[1],
                "text": reassemble(parts, allow_missing=True),
                "parts": len({p.concat.seq if p.concat else 0 for p in parts}),
                "missing": list(missing),
            }
        )
    out: dict[str, Any] = {"messages": messages}
    if reports:
        out["status_reports"] = reports
    return out


def run_decode(args: argparse.Namespace) -> int:
    decoded: list[Deliver | Submit | StatusReport] = []
    for position, hex_pdu in enumerate(args.pdus, start=1):
        try:
            decoded.append(decode_pdu(hex_pdu))
        except PduError as exc:
            return _fail(f"PDU {position}: {exc.reason}")
    result: Any = _join(decoded) if args.join else [describe(p) for p in decoded]
    print(json.dumps(result, ensure_ascii=False))
    return 0
