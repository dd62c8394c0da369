"""Pure parts of the workflow: opt-out words, phone numbers, address providers,
webhook signatures and backoff."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sqlite3
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.config import WebhookConfig
from gateway.service.address import (
    CsvAddressProvider,
    HttpAddressProvider,
    SqliteAddressProvider,
    search_address,
)
from gateway.service.errors import InvalidPhoneError
from gateway.service.optout import is_opt_out
from gateway.service.phone import normalise_phone
from gateway.service.webhooks import MAX_BACKOFF_S, retry_backoff, sign


@pytest.mark.parametrize(
    ("text", "expected"),
    [("STOP", True), ("stop.", True), (" Unsubscribe ", True), ("opt out", True),
     ("please don't stop", False), ("", False), (None, False)],
)
def test_opt_out_words(text: str | None, expected: bool) -> None:
    assert is_opt_out(text) is expected


def test_phone_numbers_normalise_or_name_the_problem() -> None:
    assert normalise_phone("(555) 123-4567", "US") == "+15551234567"
    with pytest.raises(InvalidPhoneError, match="too short"):
        normalise_phone("+1 55", "US")
    with pytest.raises(InvalidPhoneError, match="is not a phone number: it has no digits"):
        normalise_phone("call me", "US")


async def test_csv_and_sqlite_directories(tmp_path: Path) -> None:
    csv_path = tmp_path / "a.csv"
    csv_path.write_text("phone,address\n(555) 123-4567,1 Main St\n")
    csv = CsvAddressProvider(csv_path, "US")
    assert (await csv.lookup("+15551234567")).address == "1 Main St"
    assert (await csv.lookup("+15550000000")).status == "not_found"
    db_path = tmp_path / "a.db"
    with sqlite3.connect(db_path) as db:
        db.execute("CREATE TABLE addresses (phone TEXT, address TEXT)")
        db.execute("INSERT INTO addresses VALUES ('+15551234567', '2 Side St')")
    db.close()
    provider = SqliteAddressProvider(db_path)
    assert (await provider.lookup("+15551234567")).address == "2 Side St"
    missing = SqliteAddressProvider(tmp_path / "nope.db")
    assert (await missing.lookup("+15551234567")).status == "error"


async def test_slow_http_lookup_becomes_an_error_not_a_wait() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"address": "late"})

    async def fast(request: web.Request) -> web.Response:
        return web.json_response({"address": f"at {request.match_info['phone']}"})

    app = web.Application()
    app.router.add_get("/slow/{phone}", slow)
    app.router.add_get("/fast/{phone}", fast)
    server = TestServer(app)
    await server.start_server()
    try:
        base = str(server.make_url(""))
        quick = HttpAddressProvider(base + "/fast/{phone}", timeout_s=2.0)
        assert (await quick.lookup("+15551234567")).address == "at +15551234567"
        await quick.close()
        sluggish = HttpAddressProvider(base + "/slow/{phone}", timeout_s=0.2)
        result = await search_address(sluggish, "+15551234567", timeout_s=1.0)
        assert result.status == "error"
        assert "timed out" in (result.error or "")
        await sluggish.close()
    finally:
        await server.close()


def test_webhook_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"seq":1,"type":"request.created"}'
    # What a receiver computes with nothing but the standard library.
    expected = hmac.new(b"0123456789abcdef", b"1767225600." + body, hashlib.sha256).hexdigest()
    assert sign("0123456789abcdef", "1767225600", body) == expected
    assert sign("0123456789abcdeF", "1767225600", body) != expected
    assert sign("0123456789abcdef", "1767225601", body) != expected


def test_webhook_backoff_doubles_and_is_capped() -> None:
    webhook = WebhookConfig(url="http://127.0.0.1/", secret="0123456789abcdef",
                            retry_backoff_s=2.0)
    assert [retry_backoff(webhook).delay_s(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert retry_backoff(webhook).delay_s(40) == MAX_BACKOFF_S
