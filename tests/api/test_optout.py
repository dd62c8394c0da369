"""Opt-out done right: a confirmation only when an admin configured one, sent once; a hint for
an opt-out word inside a sentence; START opts in again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from gateway.sms import AddressType, Submit, decode_pdu
from gateway.store.models import MessageRow, PartRow

from .conftest import Env
from .desk import answered_case, outbound_count

CONFIRMATION = "You will get no more texts from us. Reply START to opt in again."


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"optout": {"confirmation_text": CONFIRMATION}}


async def outbound_texts(env: Env) -> list[str | None]:
    async with env.store.db.read() as session:
        rows = await session.scalars(select(MessageRow.text).where(MessageRow.direction == "out"))
        return list(rows)


async def test_the_configured_confirmation_is_sent_once(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    await env.text_in("STOP")
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["opted_out"] is True
    assert await outbound_texts(env) == [CONFIRMATION]
    assert env.outbound.wakes == 1
    await env.text_in("stop!")  # already opted out: nothing more
    assert await outbound_count(env) == 1
    entries = await env.store.accounts.audit_log(limit=50)
    assert "optout.confirmation" in [e.action for e in entries]
    await env.text_in("START")
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["opted_out"] is False
    await env.text_in("STOP")  # a new opt-out is confirmed again
    assert await outbound_count(env) == 2


@pytest.mark.parametrize(
    ("sender", "ton", "kind"),
    [("5557654", 2, AddressType.NATIONAL), ("12345", 3, AddressType.NETWORK_SPECIFIC)],
    ids=["seven-digit-national", "short-code"],
)
async def test_the_confirmation_goes_to_the_address_the_network_gave(
    env: Env, sender: str, ton: int, kind: AddressType
) -> None:
    await env.text_in("STOP", sender=sender, sender_ton=ton)
    async with env.store.db.read() as session:
        pdus = list(await session.scalars(select(PartRow.pdu).join(
            MessageRow, PartRow.message_id == MessageRow.id).where(MessageRow.direction == "out")))
    assert len(pdus) == 1
    submit = decode_pdu(pdus[0])
    assert isinstance(submit, Submit)
    assert (submit.destination.number, submit.destination.type) == (sender, kind)


async def test_a_sender_name_that_opts_out_gets_no_confirmation(env: Env) -> None:
    await env.text_in("STOP", sender="ACME", sender_ton=5)
    assert await outbound_count(env) == 0


async def test_stop_in_a_sentence_is_a_hint_not_an_opt_out(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    await env.text_in("stop, thank you")
    body = (await alice.get(f"/api/cases/{case['id']}/messages"))[1]
    assert [m.get("opt_out_hint", False) for m in body["messages"]] == [False, True]
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["opted_out"] is False
    assert await outbound_count(env) == 0
