"""The control API: handsets send and read their inbox, faults reach modems, errors are JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.sim.control import create_control_app
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sms import encode_submit
from tests.sim.helpers import connect

PHONE = "+15559990000"
ControlClient = TestClient[web.Request, web.Application]


@pytest.fixture
async def api(aiohttp_client: Any, network: SimNetwork, modem: SimModem) -> ControlClient:
    client: ControlClient = await aiohttp_client(create_control_app(network))
    return client


async def test_handset_sends_text_and_pdus_to_a_modem(api: ControlClient, modem: SimModem) -> None:
    response = await api.post(
        f"/handsets/{PHONE}/send", json={"to": modem.msisdn, "text": "x" * 200}
    )
    assert response.status == 200
    assert await response.json() == {
        "from": PHONE, "from_type": "international", "to": modem.msisdn, "parts": 2
    }
    pdus = [p.pdu for p in encode_submit("raw pdu", modem.msisdn).parts]
    response = await api.post(f"/handsets/{PHONE}/send", json={"to": modem.msisdn, "pdus": pdus})
    assert (await response.json())["parts"] == 1
    detail = await (await api.get("/modems/modem1")).json()
    assert detail["storage"]["SM"]["used"] == 3
    assert detail["msisdn"] == modem.msisdn
    assert detail["profile"] == "generic"


async def test_bulk_send_delivers_every_text_in_order(api: ControlClient, modem: SimModem) -> None:
    messages = [
        {"from": f"+1555999000{n}", "to": modem.msisdn, "text": f"bulk {n}"} for n in range(3)
    ] + [{"from": PHONE, "to": modem.msisdn, "text": "y" * 200}]
    response = await api.post("/handsets/send", json={"messages": messages})
    assert response.status == 200
    assert await response.json() == {"sent": 4, "parts": 5}
    detail = await (await api.get("/modems/modem1")).json()
    assert detail["storage"]["SM"]["used"] == 5


async def test_bulk_send_refuses_a_bad_entry_and_sends_nothing(
    api: ControlClient, modem: SimModem
) -> None:
    messages = [{"from": PHONE, "to": modem.msisdn, "text": "fine"}, {"from": PHONE, "text": 1}]
    response = await api.post("/handsets/send", json={"messages": messages})
    assert response.status == 400
    assert (await response.json())["error"]["message"].startswith("messages[1]")
    detail = await (await api.get("/modems/modem1")).json()
    assert detail["storage"]["SM"]["used"] == 0


async def test_inbox_lists_what_the_modem_sent(api: ControlClient, modem: SimModem) -> None:
    client = await connect(modem)
    part = encode_submit("to the phone", PHONE).parts[0]
    await client.command(f"AT+CMGS={part.tpdu_length}")
    client.write(part.pdu.encode() + b"\x1a")
    await client.wait_for(b"OK\r\n")
    inbox = await (await api.get(f"/handsets/{PHONE}/inbox")).json()
    assert [(m["from"], m["text"], m["parts"]) for m in inbox] == [
        (modem.msisdn, "to the phone", 1)
    ]
    assert inbox[0]["received_at"].endswith("+00:00")
    detail = await (await api.get("/modems/modem1")).json()
    directions = [(e["direction"], e["text"]) for e in detail["transcript"]]
    assert ("in", f"AT+CMGS={part.tpdu_length}") in directions
    assert client.transport is not None
    client.transport.close()


async def test_faults_through_the_api(api: ControlClient, modem: SimModem) -> None:
    response = await api.post("/modems/modem1/faults", json={"kind": "hang"})
    assert response.status == 200
    assert modem.faults.hung
    response = await api.post("/network/faults", json={"kind": "drop", "times": 2})
    assert (await response.json())["drop_times"] == 2
    listing = await (await api.get("/modems")).json()
    assert [m["name"] for m in listing] == ["modem1"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", f"/handsets/{PHONE}/send", {"to": "+1"}, 400, "bad_request"),
        ("post", f"/handsets/{PHONE}/send", {"to": "+1", "pdus": ["zz"]}, 400, "bad_pdu"),
        ("post", f"/handsets/{PHONE}/send", [1], 400, "bad_json"),
        ("post", "/modems/modem1/faults", {"kind": "melt"}, 400, "bad_fault"),
        ("post", "/modems/nope/faults", {"kind": "hang"}, 404, "unknown_modem"),
        ("get", "/modems/nope", None, 404, "unknown_modem"),
        ("get", "/nothing", None, 404, "not_found"),
    ],
)
async def test_bad_requests_get_json_errors(
    api: ControlClient, method: str, path: str, body: object, status: int, code: str
) -> None:
    response = await getattr(api, method)(path, json=body)
    assert response.status == status
    payload = await response.json()
    assert payload["error"]["code"] == code
    assert payload["error"]["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},  # what a cross-origin form or fetch sends unasked
        {"Content-Type": "application/json", "Origin": "https://evil.example"},
        {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
        {"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"},
    ],
)
async def test_a_forged_cross_origin_text_is_refused_and_nothing_is_sent(
    api: ControlClient, modem: SimModem, headers: dict[str, str]
) -> None:
    body = json.dumps({"to": modem.msisdn, "text": "forged"})
    response = await api.post(f"/handsets/{PHONE}/send", data=body, headers=headers)
    assert response.status in (403, 415)
    assert (await response.json())["error"]["code"] in ("cross_origin", "unsupported_media_type")
    detail = await (await api.get("/modems/modem1")).json()
    assert detail["storage"]["SM"]["used"] == 0


async def test_the_phone_page_itself_may_send(api: ControlClient, modem: SimModem) -> None:
    origin = str(api.make_url("")).rstrip("/")
    response = await api.post(f"/handsets/{PHONE}/send", json={"to": modem.msisdn, "text": "hi"},
                              headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"})
    assert response.status == 200


@pytest.mark.parametrize("sender", ["not a number!", "a sender name far too long", "\u00e9\u4e2d"])
async def test_a_sender_the_network_cannot_encode_is_a_400(
    api: ControlClient, modem: SimModem, sender: str
) -> None:
    response = await api.post(f"/handsets/{sender}/send", json={"to": modem.msisdn, "text": "x"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_sender"
    response = await api.post("/handsets/send", json={"messages": [
        {"from": sender, "to": modem.msisdn, "text": "x"}]})
    assert response.status == 400
    detail = await (await api.get("/modems/modem1")).json()
    assert detail["storage"]["SM"]["used"] == 0


async def test_deeply_nested_json_is_a_400(api: ControlClient) -> None:
    response = await api.post(f"/handsets/{PHONE}/send", data="[" * 100_000,
                              headers={"Content-Type": "application/json"})
    assert response.status == 400
