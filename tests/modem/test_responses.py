"""Pure parsers of AT responses, with the vendor variants real modems produce."""

from __future__ import annotations

from gateway.modem.errors import cms_is_retryable
from gateway.modem.model import StorageStatus, StoredMessage
from gateway.modem.responses import (
    parse_cmgl,
    parse_cmgs,
    parse_cnum,
    parse_cpin,
    parse_cpms_options,
    parse_cpms_status,
    parse_creg,
    parse_csq,
    parse_digits,
    parse_identification,
    parse_memory_index,
    parse_ranges,
    split_fields,
)


def test_cpms_options_flat_nested_and_short() -> None:
    flat = ['+CPMS: ("SM","ME","MT","SR"),("SM","ME","MT"),("SM","ME","MT")']
    mt = ["SM", "ME", "MT"]
    assert parse_cpms_options(flat) == [["SM", "ME", "MT", "SR"], mt, mt]
    nested = ['+CPMS: (("SM","BM","SR"),("SM"))']  # Wavecom
    assert parse_cpms_options(nested) == [["SM", "BM", "SR"], ["SM"]]
    assert parse_cpms_options(['+CPMS: ("SM")']) == [["SM"]]
    assert parse_cpms_options(["OK?"]) == []


def test_cpms_status_with_and_without_memory_names() -> None:
    assert parse_cpms_status(["+CPMS: 0,30,7,30,7,30"], ["ME", "SM", "SM"]) == (
        StorageStatus("ME", 0, 30),
        StorageStatus("SM", 7, 30),
        StorageStatus("SM", 7, 30),
    )
    assert parse_cpms_status(['+CPMS: "SM",2,20,"SM",2,20'], ["SM"]) == (
        StorageStatus("SM", 2, 20),
    )


def test_cmgl_pairs_headers_with_pdus_and_skips_strays() -> None:
    lines = ("+CMGL: 1,0,,59", "0791AB", '+CMGL: 3,1,"a,b",22', "0791cd", "+CMGL: 4,0,,5")
    assert parse_cmgl(lines, "SM") == [
        StoredMessage("SM", 1, 0, "0791AB", 59),
        StoredMessage("SM", 3, 1, "0791CD", 22),
    ]


def test_registration_signal_and_sim_answers() -> None:
    assert parse_creg('2,1,"00C3","0000A13F"', solicited=True) == "home"
    assert parse_creg("5", solicited=False) == "roaming"
    assert parse_creg('2,"00C3","1A2B",7', solicited=False) == "searching"
    assert parse_creg("0", solicited=True) == "unknown"
    assert parse_csq("21,99") == (21, -71)
    assert parse_csq("99,99") == (None, None)
    assert parse_cpin(["+CPIN: SIM PIN"]) == "SIM PIN"
    assert parse_cnum(['+CNUM: "Own","+15551230001",145']) == "+15551230001"
    assert parse_cnum(["+CNUM: ,,"]) is None
    assert parse_cmgs(['+CMGS: 17,"26/01/02,03:04:05+00"']) == 17


def test_identification_and_ids_without_vendor_decoration() -> None:
    assert parse_identification([" WAVECOM MODEM"]) == "WAVECOM MODEM"
    assert parse_identification(["Revision: EC25EFAR06A03M4G"]) == "EC25EFAR06A03M4G"
    assert parse_identification(["+CGMI: Quectel"]) == "Quectel"
    assert parse_digits(["+CCID: 8901260123456789012F"], min_length=18) == "8901260123456789012"
    assert parse_digits(["^ICCID: 8901260123456789012"], min_length=18) == "8901260123456789012"
    assert parse_digits(["+CGSN: 356938035643809"], min_length=14) == "356938035643809"
    assert parse_memory_index('"SR",4') == ("SR", 4)
    assert split_fields('1,"a,b",(0-2),,x') == ["1", "a,b", "(0-2)", "", "x"]
    assert parse_ranges("(0-2),(0,2),(1)") == [{0, 1, 2}, {0, 2}, {1}]


def test_cms_classification() -> None:
    assert all(cms_is_retryable(code) for code in (500, 42, 38, 41, 47, 331, 332, 515))
    assert not any(cms_is_retryable(code) for code in (1, 21, 304, 305, 330))
