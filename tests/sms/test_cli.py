"""`sms-gateway pdu encode|decode`: the JSON contract and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from gateway.cli import main
from gateway.sms import decode_pdu, encode_deliver, encode_status_report

WHEN = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object, str]:
    status = main(["pdu", *argv])
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out else None), err


def test_encode_single(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "encode", "--to", "+15551234567", "Hello")
    assert (status, err) == (0, "")
    assert out == {
        "encoding": "gsm7",
        "parts": [{"pdu": "0001000B915155214365F7000005C8329BFD06", "tpdu_length": 18}],
    }


def test_encode_multipart_with_options(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys,
        "encode",
        "--to",
        "5551234",
        "--encoding",
        "ucs2",
        "--ref",
        "300",
        "--ref-bits",
        "16",
        "--status-report",
        "x" * 100,
    )
    assert status == 0
    assert isinstance(out, dict)
    assert out["encoding"] == "ucs2"
    assert len(out["parts"]) == 2
    for part in out["parts"]:
        assert part["pdu"].startswith("00")
        assert part["tpdu_length"] == len(part["pdu"]) // 2 - 1
        pdu = decode_pdu(part["pdu"])
        assert pdu.concat is not None  # type: ignore[union-attr]
        assert pdu.concat.ref == 300  # type: ignore[union-attr]
        assert pdu.status_report_request  # type: ignore[union-attr]


def test_encode_too_long_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "encode", "--to", "123", "--max-parts", "2", "a" * 400)
    assert (status, out) == (2, None)
    assert err.count("\n") == 1
    assert "400 characters needs 3 gsm7 parts" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["encode", "--to", "not a number", "hi"],
        ["encode", "--to", "123", "--encoding", "gsm7", "Привет"],
        ["encode", "--to", "123", "--ref", "999", "hi"],
        ["encode", "--to", "123", "--ref-bits", "12", "hi"],
        ["encode", "hi"],
        ["decode", "zz"],
        ["decode", "0011000B916407281553F80000AA0BE8329BFD4697D9EC37"],
        ["decode"],
        ["decode", "--join"],
    ],
)
def test_bad_input_is_one_line_on_stderr_and_status_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    try:
        status = main(["pdu", *argv])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "error" in err


def test_decode_deliver_submit_and_report(capsys: pytest.CaptureFixture[str]) -> None:
    deliver = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
    submit = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    report = encode_status_report(
        mr=7, recipient="+15551234567", scts=WHEN, discharge_time=WHEN, status=0x46
    )
    binary = "0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421"
    status, out, _ = run(capsys, "decode", deliver, submit, report, binary)
    assert status == 0
    assert isinstance(out, list)
    d, s, r, b = out
    assert {k: d[k] for k in ("type", "number", "text", "encoding", "timestamp", "concat")} == {
        "type": "deliver",
        "number": "27838890001",
        "text": "hellohello",
        "encoding": "gsm7",
        "timestamp": "1999-03-29T15:16:59+02:00",
        "concat": None,
    }
    assert (s["type"], s["number"], s["text"], s["timestamp"]) == (
        "submit",
        "+46708251358",
        "hellohello",
        None,
    )
    assert (r["type"], r["number"], r["mr"], r["status"], r["st"]) == (
        "status-report",
        "+15551234567",
        7,
        "failed",
        0x46,
    )
    assert r["timestamp"] == "2024-03-04T05:06:07+00:00"
    assert (b["text"], b["encoding"]) == (None, "8bit")


def test_decode_concat_and_join(capsys: pytest.CaptureFixture[str]) -> None:
    text = "Привет! 😀 " * 15
    parts = [p.pdu for p in encode_deliver(text, "Shop", WHEN, ref=77).parts]
    other = encode_deliver("hi", "+15550001111", WHEN).parts[0].pdu
    status, out, _ = run(capsys, "decode", parts[1], parts[0])
    assert status == 0
    assert isinstance(out, list)
    assert out[0]["concat"] == {"ref": 77, "total": len(parts), "seq": 2}
    status, joined, _ = run(capsys, "decode", "--join", *reversed(parts), other, parts[0])
    assert status == 0
    assert joined == {
        "messages": [
            {"number": "Shop", "text": text, "parts": len(parts), "missing": []},
            {"number": "+15550001111", "text": "hi", "parts": 1, "missing": []},
        ]
    }


def test_join_reports_missing_parts(capsys: pytest.CaptureFixture[str]) -> None:
    parts = [p.pdu for p in encode_deliver("z" * 400, "+1555", WHEN, ref=1).parts]
    status, joined, _ = run(capsys, "decode", "--join", parts[0], parts[2])
    assert status == 0
    assert isinstance(joined, dict)
    (message,) = joined["messages"]
    assert (message["parts"], message["missing"]) == (2, [2])


def test_python_dash_m_gateway_decodes_and_fails_cleanly() -> None:
    pdu = encode_deliver("Hi €", "+15551234567", WHEN).parts[0].pdu
    ok = subprocess.run(
        [sys.executable, "-m", "gateway", "pdu", "decode", pdu],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(ok.stdout)[0]["text"] == "Hi €"
    bad = subprocess.run(
        [sys.executable, "-m", "gateway", "pdu", "decode", pdu, "nothex"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr == "sms-gateway pdu: error: PDU 2: PDU is not hexadecimal\n"
