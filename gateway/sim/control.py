"""The simulator's control API (JSON over HTTP): handsets send and read, faults are inflicted.

create_control_app(network) is self-contained, so the daemon can mount the same app in-process.
A web page elsewhere must not forge a customer's text through a visitor's browser: requests that
change anything must be application/json (which a cross-origin page cannot send without a CORS
preflight, never answered here) and are refused when the browser says they come from another
site or origin (Sec-Fetch-Site, Origin).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway.sim.faults import FaultError, apply_fault
from gateway.sim.handset import Handset, InboxMessage
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sms import PduError
from gateway.sms.address import encode_originator

NETWORK_KEY = web.AppKey("network", SimNetwork)
MAX_TEXT_LENGTH = 10_000
MAX_BULK_MESSAGES = 10_000


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _refuse_foreign(request: web.Request) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        raise ApiError(403, "cross_origin", "requests from another site are refused")
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        raise ApiError(403, "cross_origin", f"origin {origin} is refused")
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        _refuse_foreign(request)
        response: web.StreamResponse = await handler(request)
    except ApiError as exc:
        return _error_response(exc.status, exc.code, exc.message)
    except web.HTTPNotFound:
        return _error_response(404, "not_found", f"no route for {request.path}")
    except web.HTTPMethodNotAllowed:
        return _error_response(405, "method_not_allowed", f"{request.method} not allowed")
    return response


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "bad_json", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    return body


def _sender(msisdn: str, where: str = "") -> str:
    """A handset's number, refused unless the network can put it in a PDU as the sender (a
    number, or an alphanumeric ID of up to 11 GSM characters)."""
    try:
        encode_originator(msisdn)
    except PduError as exc:
        raise ApiError(400, "bad_sender", f"{where}{exc.reason}") from None
    return msisdn


def _modem(request: web.Request) -> SimModem:
    name = request.match_info["name"]
    modem = request.app[NETWORK_KEY].modem_named(name)
    if modem is None:
        raise ApiError(404, "unknown_modem", f"no modem named {name!r}")
    return modem


def _handset(request: web.Request) -> Handset:
    """The handset named in the path: a number, a short code or a sender name."""
    identity = _sender(request.match_info["msisdn"])
    try:
        return request.app[NETWORK_KEY].handset(identity)
    except ValueError as exc:
        raise ApiError(400, "bad_handset", str(exc)) from None


def _inbox_entry(message: InboxMessage) -> dict[str, Any]:
    return {
        "from": message.from_,
        "from_type": message.from_type,
        "text": message.text,
        "parts": message.parts,
        "received_at": message.received_at.isoformat(),
    }


def describe_modem(modem: SimModem) -> dict[str, object]:
    """A modem's state, storage, faults and AT transcript, as GET /modems/{name} shows it."""
    return {
        "name": modem.name,
        "msisdn": modem.msisdn,
        "profile": modem.profile.name,
        "device": modem.device,
        "plugged": modem.plugged,
        "power": modem.power,
        "hung": modem.faults.hung,
        "cfun": modem.cfun,
        "registration": modem.reg_stat,
        "rssi": modem.rssi,
        "sim": modem.sim.state,
        "settings": modem.settings.as_dict(),
        "storage": {
            name: {
                "used": memory.used,
                "total": memory.total,
                "full": memory.is_full,
                "messages": [
                    {"index": m.index, "stat": m.stat, "kind": m.kind, "pdu": m.pdu}
                    for m in memory.snapshot()
                ],
            }
            for name, memory in modem.storage.memories.items()
        },
        "faults": modem.faults.describe(),
        "transcript": [
            {"at": round(e.at, 3), "direction": e.direction, "text": e.text}
            for e in modem.transcript
        ],
    }


async def handset_send(request: web.Request) -> web.Response:
    body = await _json_object(request)
    to = body.get("to")
    if not isinstance(to, str) or not to.strip():
        raise ApiError(400, "bad_request", '"to" must be a non-empty string')
    handset = _handset(request)
    text = body.get("text")
    pdus = body.get("pdus")
    try:
        if text is not None and pdus is None:
            if not isinstance(text, str) or len(text) > MAX_TEXT_LENGTH:
                raise ApiError(400, "bad_request", '"text" must be a string')
            status_report = body.get("status_report", False)
            if not isinstance(status_report, bool):
                raise ApiError(400, "bad_request", '"status_report" must be true or false')
            parts = handset.send(to, text, status_report=status_report)
        elif pdus is not None and text is None:
            if not isinstance(pdus, list) or not pdus or not all(isinstance(p, str) for p in pdus):
                raise ApiError(400, "bad_request", '"pdus" must be a non-empty list of hex')
            parts = handset.send_pdus(to, pdus)
        else:
            raise ApiError(400, "bad_request", 'give exactly one of "text" and "pdus"')
    except PduError as exc:
        raise ApiError(400, "bad_pdu", exc.reason) from None
    return web.json_response({
        "from": handset.msisdn, "from_type": handset.address.type.value, "to": to, "parts": parts,
    })


async def handsets_send_bulk(request: web.Request) -> web.Response:
    """Many handsets send at once, in the order given: one request instead of one per text, so
    a load test measures the gateway rather than HTTP. All are checked before any is sent."""
    network = request.app[NETWORK_KEY]
    body = await _json_object(request)
    messages = body.get("messages")
    if not isinstance(messages, list) or not 0 < len(messages) <= MAX_BULK_MESSAGES:
        raise ApiError(
            400, "bad_request", f'"messages" must be a list of 1 to {MAX_BULK_MESSAGES} objects'
        )
    checked: list[tuple[str, str, str]] = []
    for n, message in enumerate(messages):
        sender, to, text = (
            (message.get("from"), message.get("to"), message.get("text"))
            if isinstance(message, dict) else (None, None, None)
        )
        if not (
            isinstance(sender, str) and sender.strip() and isinstance(to, str) and to.strip()
            and isinstance(text, str) and len(text) <= MAX_TEXT_LENGTH
        ):
            raise ApiError(
                400, "bad_request", f'messages[{n}] needs string "from", "to" and "text"'
            )
        checked.append((_sender(sender, f"messages[{n}]: "), to, text))
    try:
        handsets = [network.handset(sender) for sender, _to, _text in checked]
    except ValueError as exc:
        raise ApiError(400, "bad_handset", str(exc)) from None
    parts = [h.send(to, text) for h, (_s, to, text) in zip(handsets, checked, strict=True)]
    return web.json_response({"sent": len(parts), "parts": sum(parts)})


async def handset_inbox(request: web.Request) -> web.Response:
    handset = _handset(request)
    return web.json_response([_inbox_entry(m) for m in handset.inbox])


async def modem_faults(request: web.Request) -> web.Response:
    modem = _modem(request)
    body = await _json_object(request)
    kind = body.pop("kind", None)
    if not isinstance(kind, str):
        raise ApiError(400, "bad_request", '"kind" must be a string')
    try:
        apply_fault(modem, kind, body)
    except FaultError as exc:
        raise ApiError(400, "bad_fault", str(exc)) from None
    return web.json_response({"modem": modem.name, "applied": kind})


async def modem_detail(request: web.Request) -> web.Response:
    return web.json_response(describe_modem(_modem(request)))


def _summary(modem: SimModem) -> dict[str, Any]:
    return {
        "name": modem.name,
        "msisdn": modem.msisdn,
        "profile": modem.profile.name,
        "device": modem.device,
        "plugged": modem.plugged,
        "registration": modem.reg_stat,
    }


async def modem_list(request: web.Request) -> web.Response:
    modems = request.app[NETWORK_KEY].modems.values()
    return web.json_response([_summary(m) for m in sorted(modems, key=lambda m: m.name)])


async def network_faults(request: web.Request) -> web.Response:
    network = request.app[NETWORK_KEY]
    body = await _json_object(request)
    kind = body.pop("kind", None)
    if not isinstance(kind, str):
        raise ApiError(400, "bad_request", '"kind" must be a string')
    try:
        network.apply_fault(kind, body)
    except FaultError as exc:
        raise ApiError(400, "bad_fault", str(exc)) from None
    return web.json_response(network.describe())


def _smsc(request: web.Request) -> Any:
    smscs = request.app[NETWORK_KEY].smscs
    if not smscs:
        raise ApiError(404, "no_smsc", "the simulator runs no SMSC (start it with --smsc)")
    return next(iter(smscs.values()))


async def smsc_detail(request: web.Request) -> web.Response:
    return web.json_response(_smsc(request).status())


async def smsc_faults(request: web.Request) -> web.Response:
    """drop, throttle {times}, no_response {times}, refuse_bind {times},
    delay_receipts {seconds}, clear."""
    smsc = _smsc(request)
    body = await _json_object(request)
    kind = body.pop("kind", None)
    if not isinstance(kind, str):
        raise ApiError(400, "bad_request", '"kind" must be a string')
    try:
        smsc.apply_fault(kind, body)
    except FaultError as exc:
        raise ApiError(400, "bad_fault", str(exc)) from None
    return web.json_response(smsc.status())


async def smsc_settings(request: web.Request) -> web.Response:
    """{"mo_concat": "udh" | "sar" | "payload"}: how long messages reach the ESME."""
    smsc = _smsc(request)
    body = await _json_object(request)
    try:
        if "mo_concat" in body:
            smsc.set_mo_concat(body["mo_concat"])
    except FaultError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    return web.json_response(smsc.status())


async def network_detail(request: web.Request) -> web.Response:
    return web.json_response(request.app[NETWORK_KEY].describe())


def create_control_app(network: SimNetwork) -> web.Application:
    app = web.Application(middlewares=[_errors])
    app[NETWORK_KEY] = network
    app.router.add_post("/handsets/send", handsets_send_bulk)
    app.router.add_post("/handsets/{msisdn}/send", handset_send)
    app.router.add_get("/handsets/{msisdn}/inbox", handset_inbox)
    app.router.add_get("/modems", modem_list)
    app.router.add_get("/modems/{name}", modem_detail)
    app.router.add_post("/modems/{name}/faults", modem_faults)
    app.router.add_get("/network", network_detail)
    app.router.add_post("/network/faults", network_faults)
    app.router.add_get("/smsc", smsc_detail)
    app.router.add_post("/smsc/faults", smsc_faults)
    app.router.add_post("/smsc/settings", smsc_settings)
    return app
