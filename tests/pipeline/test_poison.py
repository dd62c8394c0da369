"""Hostile texts on a whole daemon: every byte value and every malformed UCS2 sequence a
network can deliver is stored (exactly, in the raw user data; safely, in the text) on SQLite and
PostgreSQL, and the line goes on; a message the store still refuses is quarantined."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.sms import address, gsm7, udh
from gateway.sms import scts as sms_scts
from gateway.store import Store
from gateway.store.models import MessageRow, PartRow
from gateway.store.storable import NUL_STAND_IN, storable_text
from tests.conftest import require_tool
from tests.pipeline.conftest import CUSTOMER, LINE_NUMBER, daemon_config, eventually
from tests.store.conftest import PgDatabases

SCTS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DCS_GSM7, DCS_8BIT, DCS_UCS2 = 0x00, 0x04, 0x08


def deliver(dcs: int, user_data: bytes, *, udl: int | None = None, header: bytes = b"",
            sender: str = CUSTOMER, second: int = 0) -> str:
    """An SMS-DELIVER as a network hands it to a modem, with user data exactly as given."""
    first = 0x04 | (0x40 if header else 0)
    body = header + user_data
    tpdu = (
        bytes((first,)) + address.encode_originator(sender) + bytes((0x00, dcs))
        + sms_scts.encode(SCTS.replace(second=second))
        + bytes((len(body) if udl is None else udl,)) + body
    )
    return "00" + tpdu.hex().upper()


def concat(ref: int, total: int, seq: int) -> bytes:
    return udh.concat_header(ref, total, seq, 8)


# Malformed UCS2 as phones and SMSCs in the field send it; each one a message of its own.
MALFORMED_UCS2: dict[str, bytes] = {
    "lone high surrogate": b"\xd8\x00",
    "lone low surrogate": b"\xdc\x00",
    "high surrogate then a letter": b"\xd8\x3d\x00A",
    "pair reversed": b"\xde\x00\xd8\x3d",
    "odd octet count": b"\x00A\x00",
    "high surrogate at the very end": b"\x00h\x00i\xd8\x3d",
    "noncharacters and BOMs": b"\xff\xfe\xff\xff\xfe\xff\xfe\xff",
    "NUL units": b"\x00\x00\x00A\x00\x00",
}


def hostile_pdus() -> list[tuple[str, str, bytes]]:
    """(label, PDU, raw user data without header) for every case."""
    cases: list[tuple[str, str, bytes]] = []
    # Every UCS2 unit U+0000..U+00FF (so every byte value as a low octet), 64 to a message.
    units = b"".join(bytes((0, n)) for n in range(256))
    for i in range(4):
        chunk = units[i * 128:(i + 1) * 128]
        cases.append((f"ucs2 units {i * 64}-{i * 64 + 63}", deliver(DCS_UCS2, chunk, second=i),
                      chunk))
    # Every octet value as a UCS2 high octet too.
    highs = b"".join(bytes((n, 0x41)) for n in range(256) if not 0xD8 <= n <= 0xDF)
    for i in range(0, len(highs), 140):
        chunk = highs[i:i + 140]
        cases.append((f"ucs2 high octets {i}", deliver(DCS_UCS2, chunk, second=10 + i // 140),
                      chunk))
    # Every octet value as 8-bit data.
    octets = bytes(range(256))
    for i in range(2):
        chunk = octets[i * 128:(i + 1) * 128]
        cases.append((f"8-bit {i}", deliver(DCS_8BIT, chunk, second=20 + i), chunk))
    # Every GSM 7-bit septet, escape included.
    septets = bytes(range(128))
    cases.append(("gsm7 every septet", deliver(DCS_GSM7, gsm7.pack(septets), udl=128, second=30),
                  septets))
    for n, (label, data) in enumerate(MALFORMED_UCS2.items()):
        cases.append((label, deliver(DCS_UCS2, data, second=40 + n), data))
    # A pair split across two parts (must come out whole) and a lone high surrogate at a part's
    # end followed by a part that starts with a letter (must not stop the message).
    cases.append(("split pair 1/2", deliver(DCS_UCS2, b"\x00a\xd8\x3d", header=concat(7, 2, 1),
                                            second=50), b"\x00a\xd8\x3d"))
    cases.append(("split pair 2/2", deliver(DCS_UCS2, b"\xde\x00\x00b", header=concat(7, 2, 2),
                                            second=50), b"\xde\x00\x00b"))
    cases.append(("lone at boundary 1/2", deliver(DCS_UCS2, b"\x00c\xd8\x3d",
                                                  header=concat(8, 2, 1), second=51),
                  b"\x00c\xd8\x3d"))
    cases.append(("lone at boundary 2/2", deliver(DCS_UCS2, b"\x00d", header=concat(8, 2, 2),
                                                  second=51), b"\x00d"))
    return cases


def store_of(daemon: Daemon) -> Store:
    assert daemon.store is not None
    return daemon.store


async def stored_parts(store: Store) -> list[Any]:
    async with store.db.read() as session:
        return list(await session.scalars(select(PartRow).order_by(PartRow.id)))


async def stored_messages(store: Store) -> list[Any]:
    async with store.db.read() as session:
        return list(await session.scalars(select(MessageRow).order_by(MessageRow.id)))


async def _value(value: int) -> int:
    return value


async def test_every_byte_value_and_malformed_ucs2_is_stored_and_the_line_goes_on(
    daemon: Daemon,
) -> None:
    assert daemon.sim is not None
    store = store_of(daemon)
    modem = daemon.sim.modems["demo"]
    daemon.sim.network.handset(CUSTOMER).send(LINE_NUMBER, "poison \u0000 NUL")
    await eventually(lambda: stored_messages(store), lambda ms: len(ms) == 1)
    cases = hostile_pdus()
    for _label, pdu, _data in cases:
        assert modem.deliver_sms(pdu, None)
    daemon.sim.network.handset(CUSTOMER).send(LINE_NUMBER, "still listening?")
    singles = sum(1 for label, _, _ in cases if "/2" not in label)
    messages = await eventually(
        lambda: stored_messages(store),
        lambda ms: len(ms) == 1 + singles + 2 + 1 and all(m.status == "received" for m in ms),
        timeout_s=30,
    )
    await eventually(lambda: _value(modem.storage["SM"].used), lambda used: used == 0)
    assert await store.quarantine.count() == 0

    texts = [m.text for m in messages]
    assert texts[0] == f"poison {NUL_STAND_IN} NUL"
    assert "still listening?" in texts
    for message_text in texts:
        assert message_text is None or (
            "\x00" not in message_text
            and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in message_text)
        )
    parts = await stored_parts(store)
    # Lossless: the raw user data of every part is what the network sent, so the exact text
    # (NUL and lone surrogates included) can be decoded again.
    assert parts[0].user_data.decode("utf-16-be") == "poison \u0000 NUL"
    by_pdu = {part.pdu: part for part in parts}
    for label, pdu, data in cases:
        part = by_pdu[pdu]
        if label == "gsm7 every septet":
            assert part.text == storable_text(gsm7.decode(data)), label
            continue
        assert part.user_data == data, label
    by_text = {t for t in texts if t}
    assert "a\U0001f600b" in by_text  # the split pair, whole again
    assert "c\ufffdd" in by_text  # the lone half at a boundary, marked, the rest kept
    assert "".join(chr(n) for n in range(1, 64)) in "".join(by_text)


async def reject_pdus_containing(store: Store, marker: str) -> None:
    """A database that refuses one message (as a check constraint or a failing disk page
    would), installed as a real trigger: the daemon must quarantine it and go on."""
    async with store.db.engine.begin() as connection:
        if store.db.is_sqlite:
            await connection.execute(text(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON message_parts "
                f"WHEN NEW.pdu LIKE '%{marker}%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            ))
        else:
            await connection.execute(text(
                "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.pdu LIKE '%{marker}%' THEN RAISE EXCEPTION 'refused'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            ))
            await connection.execute(text(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON message_parts "
                "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
            ))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def quick_quarantine(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: PgDatabases | None
) -> Any:
    overrides: dict[str, Any] = {"inbound": {"reassembly_timeout_s": 2.0,
                                             "quarantine_after_attempts": 2}}
    if request.param == "postgresql":
        require_tool(pg_databases is not None, "PostgreSQL tests need GATEWAY_TEST_PG_URL")
        assert pg_databases is not None
        overrides["database"] = await pg_databases.create()
    instance = Daemon(parse_config(daemon_config(tmp_path, **overrides), base_dir=tmp_path))
    await instance.start()
    try:
        await instance.supervisors["demo"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        yield instance
    finally:
        await instance.stop()


async def test_a_message_the_store_refuses_is_quarantined_and_later_texts_get_through(
    quick_quarantine: Daemon,
) -> None:
    daemon = quick_quarantine
    assert daemon.sim is not None
    store = store_of(daemon)
    modem = daemon.sim.modems["demo"]
    poison = deliver(DCS_UCS2, "refuse me".encode("utf-16-be"), second=1)
    marker = poison[-12:]
    await reject_pdus_containing(store, marker)
    good = deliver(DCS_UCS2, "a good one".encode("utf-16-be"), second=2)
    assert modem.deliver_sms(poison, None)
    assert modem.deliver_sms(good, None)
    # The good text is stored at once, whatever happens to the poison one beside it.
    await eventually(lambda: stored_messages(store),
                     lambda ms: [m.text for m in ms] == ["a good one"], timeout_s=10)
    quarantined = await eventually(
        lambda: store.quarantine.recent(), lambda rows: len(rows) == 1, timeout_s=20
    )
    assert quarantined[0].pdu == poison
    assert "refused" in quarantined[0].reason
    assert quarantined[0].attempts == 2
    assert quarantined[0].line_id == daemon.line_ids["demo"]
    # Only once it is committed to the quarantine does the modem copy go.
    await eventually(lambda: _value(modem.storage["SM"].used), lambda used: used == 0)
    daemon.sim.network.handset(CUSTOMER).send(LINE_NUMBER, "after the poison")
    await eventually(lambda: stored_messages(store),
                     lambda ms: [m.text for m in ms] == ["a good one", "after the poison"])
    assert await store.quarantine.count() == 1
