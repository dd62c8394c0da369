"""The V.25ter command-line parser: chains, basic and extended syntax, strings."""

from __future__ import annotations

from gateway.sim.atparse import Arg, find_prefix, parse_line

Expected = list[tuple[str, str, tuple[Arg | None, ...]]]
TABLE: list[tuple[str, Expected]] = [
    ("", []),
    ("E0", [("E", "exec", (Arg("0"),))]),
    ("E0V1&F", [("E", "exec", (Arg("0"),)), ("V", "exec", (Arg("1"),)), ("&F", "exec", ())]),
    ("+CMGF=0", [("+CMGF", "set", (Arg("0"),))]),
    ("+cpms?", [("+CPMS", "read", ())]),
    ("+CPMS=?", [("+CPMS", "test", ())]),
    (
        '+CMEE=1;+CREG=2;+CPMS="SM","ME"',
        [
            ("+CMEE", "set", (Arg("1"),)),
            ("+CREG", "set", (Arg("2"),)),
            ("+CPMS", "set", (Arg("SM", True), Arg("ME", True))),
        ],
    ),
    (
        '+CUSD=1,"*100#;x,y",15',
        [("+CUSD", "set", (Arg("1"), Arg("*100#;x,y", True), Arg("15")))],
    ),
    ("+CMGD=1,", [("+CMGD", "set", (Arg("1"), None))]),
    ("+CSMP=,167", [("+CSMP", "set", (None, Arg("167")))]),
    ("E0+CMEE=2", [("E", "exec", (Arg("0"),)), ("+CMEE", "set", (Arg("2"),))]),
    ("S7=60;S3?", [("S7", "set", (Arg("60"),)), ("S3", "read", ())]),
    ("$TSSPCSW=?", [("$TSSPCSW", "test", ())]),
    ("^SYSCFG?", [("^SYSCFG", "read", ())]),
    (" + C S Q ", [("+CSQ", "exec", ())]),
]


def test_lines_parse_into_commands() -> None:
    for body, expected in TABLE:
        parsed = parse_line(body)
        assert parsed.error is None, body
        assert [(c.name, c.kind, c.args) for c in parsed.commands] == expected, body


def test_strings_keep_their_case_and_spaces() -> None:
    (command,) = parse_line('+CSCA="+1 555 Abc"').commands
    assert command.args == (Arg("+1 555 Abc", True),)


def test_syntax_errors_keep_the_commands_before_them() -> None:
    for body in ('+CPMS="SM', "+CMGF=0;Y", "&", '+CSCA="x"y', "+CMGF=0;+"):
        parsed = parse_line(body)
        assert parsed.error is not None, body
        if body.startswith("+CMGF"):
            assert [c.name for c in parsed.commands] == ["+CMGF"], body


def test_prefix_is_found_after_line_noise() -> None:
    cases = [("AT", 2), ("at+cmgf=0", 2), ("\x1bAT", 3), ("noise", None), ("\x1b", None)]
    assert [find_prefix(line) for line, _ in cases] == [start for _, start in cases]
