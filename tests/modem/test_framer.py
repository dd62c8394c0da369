"""The pure AT framer: byte tables, then properties over random chunking and garbage."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.modem.framer import (
    Event,
    Final,
    Framer,
    Line,
    Noise,
    Prompt,
    Urc,
    parse_final,
    response_prefixes,
)

PDU = "07915155000000F0040B915155674523F10000621162401445002DC8329BFD06"


def feed_all(framer: Framer, chunks: list[bytes]) -> list[Event]:
    events: list[Event] = []
    for chunk in chunks:
        events.extend(framer.feed(chunk))
    return events


def framed(data: bytes, command: str | None = None, *, expect_prompt: bool = False) -> list[Event]:
    framer = Framer()
    if command is not None:
        framer.begin(command, expect_prompt=expect_prompt)
    return framer.feed(data)


TABLE: list[tuple[str | None, bytes, list[Event]]] = [
    ("AT", b"\r\nOK\r\n", [Final("OK", "ok")]),
    ("AT", b"AT\r\r\nOK\r\n", [Final("OK", "ok")]),  # echo dropped
    ("AT+CGMI", b"\r\n huawei\r\n\r\nOK\r\n", [Line("huawei"), Final("OK", "ok")]),
    ("AT+CMGS=1", b"\r\n+CMS ERROR: 304\r\n", [Final("+CMS ERROR: 304", "cms", 304)]),
    ("AT+CPIN?", b"\r\n+CME ERROR: 10\r\n", [Final("+CME ERROR: 10", "cme", 10)]),
    ("AT+CPIN?", b"\r\n+CME ERROR: SIM busy\r\n", [Final("+CME ERROR: SIM busy", "cme")]),
    ("AT+FOO", b"\r\nCOMMAND NOT SUPPORT\r\n", [Final("COMMAND NOT SUPPORT", "error")]),
    ("AT+CREG?", b"\r\n+CREG: 2,1\r\n\r\nOK\r\n", [Line("+CREG: 2,1"), Final("OK", "ok")]),
    (
        "AT+CSQ",
        b"\r\n+CREG: 1\r\n+CSQ: 21,99\r\n\r\nOK\r\n",
        [Urc("+CREG", "+CREG: 1"), Line("+CSQ: 21,99"), Final("OK", "ok")],
    ),
    (
        "AT+CPIN?",
        b"\r\n+CPIN: READY\r\n\r\nOK\r\n",
        [Line("+CPIN: READY"), Final("OK", "ok")],
    ),
    (
        "AT+CMGR=1",
        b"\r\n+CMGR: 1,,59\r\n^RSSI:18\r\n" + PDU.encode() + b"\r\n\r\nOK\r\n",
        [
            Line("+CMGR: 1,,59"),
            Urc("^RSSI", "^RSSI:18"),
            Line(PDU),
            Final("OK", "ok"),
        ],
    ),
    (
        "AT+CMGL=4",
        b'\r\n+CMGL: 1,0,,59\r\n\r\n+CMTI: "SM",2\r\n' + PDU.encode() + b"\r\n\r\nOK\r\n",
        [Line("+CMGL: 1,0,,59"), Urc("+CMTI", '+CMTI: "SM",2'), Line(PDU), Final("OK", "ok")],
    ),
    (None, b"\r\nRDY\r\n", [Urc("RDY", "RDY")]),
    (None, b"\r\n+CPIN: READY\r\n", [Urc("+CPIN", "+CPIN: READY")]),
    (None, b"\r\n^BOOT:1,0,0,0,0\r\n", [Urc("^BOOT", "^BOOT:1,0,0,0,0")]),
    (None, b"\r\nSMS Ready\r\n", [Urc("SMS READY", "SMS Ready")]),
    (
        None,
        b"\r\n+CMT: ,29\r\n" + PDU.encode() + b"\r\n",
        [Urc("+CMT", "+CMT: ,29", PDU)],
    ),
    (
        None,
        b"\r\n+CDS: 25\r\n" + PDU.lower().encode() + b"\r\n",
        [Urc("+CDS", "+CDS: 25", PDU)],
    ),
    (
        None,
        b"\r\n+CMT: ,29\r\nOK\r\n",  # corrupted: header without its PDU, still reported
        [Urc("+CMT", "+CMT: ,29"), Final("OK", "ok")],
    ),
    (None, b"\r\nhello\r\n", [Line("hello")]),
    ("AT+CMGS=20", b"AT+CMGS=20\r\r\n> ", [Prompt()]),
    (
        "AT+CMGS=20",
        b"\r\n> \r\n+CMGS: 7\r\n\r\nOK\r\n",
        [Prompt(), Line("+CMGS: 7"), Final("OK", "ok")],
    ),
    ("AT", b"\r\n> \r\nOK\r\n", [Line(">"), Final("OK", "ok")]),  # no prompt expected
    ("AT", b"\xfe\x01garbage\r\nOK\r\n", [Noise(b"\xfe\x01garbage"), Final("OK", "ok")]),
    ("AT", b"\x00\x00\r\n\xffOK\r\n", [Final("OK", "ok")]),  # boot padding
    ("AT", b"\r\nl\xc3\xa9gal\r\nOK\r\n", [Line("légal"), Final("OK", "ok")]),
]


def test_framer_table() -> None:
    # One test item for the whole table keeps the suite fast; the message names the failing row.
    for command, data, expected in TABLE:
        expect_prompt = command is not None and command.startswith("AT+CMGS")
        got = framed(data, command, expect_prompt=expect_prompt)
        assert got == expected, f"{command!r} {data!r}"


def test_final_result_ends_the_command_so_later_lines_are_unsolicited() -> None:
    framer = Framer()
    framer.begin("AT+CREG?")
    events = framer.feed(b"\r\n+CREG: 2,1\r\n\r\nOK\r\n\r\n+CREG: 5\r\n")
    assert events == [Line("+CREG: 2,1"), Final("OK", "ok"), Urc("+CREG", "+CREG: 5")]
    assert framer.pending is None


def test_over_long_line_is_dropped_and_framing_resumes() -> None:
    framer = Framer(max_line_bytes=64)
    framer.begin("AT")
    events = feed_all(framer, [b"x" * 50, b"y" * 50, b"z" * 50, b"\r\nOK\r\n"])
    assert events == [Final("OK", "ok")]
    assert framer.discarded_bytes == 150


def test_prompt_is_not_seen_in_the_middle_of_a_line() -> None:
    assert framed(b"\r\nA>B\r\n", "AT+CMGS=5", expect_prompt=True) == [Line("A>B")]


def test_response_prefixes() -> None:
    assert response_prefixes("AT+CREG?") == {"+CREG"}
    assert response_prefixes("AT+CMEE=1;+CREG=2") == {"+CMEE", "+CREG"}
    assert response_prefixes("ATE0") == set()
    assert response_prefixes("at^syscfg?") == {"^SYSCFG"}
    assert response_prefixes("AT") == set()


def test_parse_final_recognises_only_final_codes() -> None:
    assert parse_final("OK") == Final("OK", "ok")
    assert parse_final("+CMS ERROR:500") == Final("+CMS ERROR:500", "cms", 500)
    assert parse_final("+CMGS: 5") is None
    assert parse_final("OKAY") is None


# A realistic session: command answers with URCs in between, a send, and a routed delivery.
SESSION = (
    b"AT\r\r\nOK\r\n"
    b"\r\n+CSQ: 21,99\r\n^RSSI:20\r\n\r\nOK\r\n"
    b'\r\n+CMTI: "SM",3\r\n'
    b"\r\n> "
    b"\r\n+CMGS: 12\r\n\r\nOK\r\n"
    b"\r\n+CMT: ,29\r\n" + PDU.encode() + b"\r\n"
    b"\r\n+CMS ERROR: 500\r\n"
    b"\xff\xfe garbage \x00\x01\r\n"
    b"\r\nRING\r\n"
)


def _session_framer() -> Framer:
    framer = Framer()
    framer.begin("AT+CMGS=20", expect_prompt=True)
    return framer


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(SESSION)), max_size=40))
def test_any_chunking_yields_the_same_events(cuts: list[int]) -> None:
    whole = _session_framer().feed(SESSION)
    points = sorted(set(cuts))
    chunks = [SESSION[a:b] for a, b in zip([0, *points], [*points, len(SESSION)], strict=True)]
    assert feed_all(_session_framer(), chunks) == whole


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20), st.booleans())
def test_random_garbage_never_raises_and_framing_recovers(
    garbage: list[bytes], pending: bool
) -> None:
    framer = Framer(max_line_bytes=256)
    if pending:
        framer.begin("AT+CMGS=5", expect_prompt=True)
    for chunk in garbage:
        framer.feed(chunk)
    framer.end()
    events = framer.feed(b"\r\n\r\nRDY\r\n")
    assert events[-1] == Urc("RDY", "RDY")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(min_value=1, max_value=200), max_size=20))
def test_chunking_of_garbage_does_not_change_events(data: bytes, cuts: list[int]) -> None:
    points = sorted({c for c in cuts if c < len(data)})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    whole = Framer(max_line_bytes=32)
    split = Framer(max_line_bytes=32)
    for framer in (whole, split):
        framer.begin("AT+CMGS=5", expect_prompt=True)
    assert feed_all(split, chunks) == whole.feed(data)
