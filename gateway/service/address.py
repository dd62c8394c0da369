"""Address search: the phone -> address directory a case is filled from, as configured.

Providers: `none`, a CSV file or SQLite database kept by the site, and an HTTP lookup. A provider
never raises: a failure comes back as a result with status `error`, and the caller bounds the wait,
so a slow or broken directory never holds up answering.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import aiohttp
import aiosqlite
import phonenumbers

AddressSearchStatus = Literal["found", "not_found", "error"]
ProviderKind = Literal["none", "csv", "sqlite", "http"]
DEFAULT_LOOKUP_TIMEOUT_S = 3.0
MAX_HTTP_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class AddressResult:
    status: AddressSearchStatus
    address: str | None = None
    error: str | None = None


NOT_FOUND = AddressResult("not_found")


class AddressProvider(Protocol):
    name: str

    async def lookup(self, phone: str) -> AddressResult: ...

    async def close(self) -> None: ...


def _phone_key(raw: str, default_region: str | None) -> str:
    """Directory entries are matched on E.164; entries that cannot be parsed match as written."""
    try:
        number = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException:
        return raw.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class NoAddressProvider:
    name = "none"

    async def lookup(self, phone: str) -> AddressResult:
        return NOT_FOUND

    async def close(self) -> None:
        return None


class CsvAddressProvider:
    """A CSV file of `phone,address` rows (a header row is allowed), re-read when it changes."""

    name = "csv"

    def __init__(self, path: Path, default_region: str | None) -> None:
        self._path = path
        self._region = default_region
        self._loaded_mtime_ns: int | None = None
        self._entries: dict[str, str] = {}

    async def lookup(self, phone: str) -> AddressResult:
        try:
            self._reload_if_changed()
        except (OSError, csv.Error, UnicodeDecodeError) as exc:
            return AddressResult("error", error=f"address directory {self._path}: {exc}")
        address = self._entries.get(phone)
        return AddressResult("found", address=address) if address else NOT_FOUND

    def _reload_if_changed(self) -> None:
        mtime = os.stat(self._path).st_mtime_ns
        if mtime == self._loaded_mtime_ns:
            return
        entries: dict[str, str] = {}
        with open(self._path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.reader(handle):
                if len(row) < 2 or not row[0].strip() or row[0].strip().lower() == "phone":
                    continue
                entries[_phone_key(row[0], self._region)] = row[1].strip()
        self._entries = entries
        self._loaded_mtime_ns = mtime

    async def close(self) -> None:
        return None


DEFAULT_SQLITE_QUERY = "SELECT address FROM addresses WHERE phone = ?"


class SqliteAddressProvider:
    """An SQLite file read-only; `query` takes the E.164 number as its one parameter."""

    name = "sqlite"

    def __init__(self, path: Path, query: str = DEFAULT_SQLITE_QUERY) -> None:
        self._path = path
        self._query = query

    async def lookup(self, phone: str) -> AddressResult:
        if not self._path.exists():
            return AddressResult("error", error=f"address directory {self._path} does not exist")
        uri = f"file:{urllib.parse.quote(str(self._path))}?mode=ro"
        try:
            async with aiosqlite.connect(uri, uri=True, timeout=1.0) as db:
                cursor = await db.execute(self._query, (phone,))
                row = await cursor.fetchone()
                await cursor.close()
        except Exception as exc:  # sqlite3.Error and friends: reported, never raised
            return AddressResult("error", error=f"address directory {self._path}: {exc}")
        if row is None or not row[0]:
            return NOT_FOUND
        return AddressResult("found", address=str(row[0]))

    async def close(self) -> None:
        return None


class HttpAddressProvider:
    """GET `url_template` with `{phone}` (E.164, URL-encoded) and `{digits}` filled in.

    200 with JSON `{"address": "..."}` (or a JSON string, or plain text) is a hit; 404 or an empty
    address is a miss; anything else is an error shown on the case.
    """

    name = "http"

    def __init__(
        self, url_template: str, timeout_s: float, headers: dict[str, str] | None = None
    ) -> None:
        self._url_template = url_template
        self._timeout_s = timeout_s
        self._headers = dict(headers or {})
        self._session: aiohttp.ClientSession | None = None

    def _url(self, phone: str) -> str:
        return self._url_template.format(
            phone=urllib.parse.quote(phone, safe=""), digits=phone.lstrip("+")
        )

    async def lookup(self, phone: str) -> AddressResult:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout_s), headers=self._headers
            )
        try:
            async with self._session.get(self._url(phone)) as response:
                if response.status == 404:
                    return NOT_FOUND
                if response.status != 200:
                    error = f"address lookup answered {response.status}"
                    return AddressResult("error", error=error)
                body = await response.content.read(MAX_HTTP_RESPONSE_BYTES)
        except TimeoutError:
            return AddressResult(
                "error", error=f"address lookup timed out after {self._timeout_s:g} s"
            )
        except aiohttp.ClientError as exc:
            return AddressResult("error", error=f"address lookup failed: {exc}")
        return _parse_http_answer(body, response.content_type)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _parse_http_answer(body: bytes, content_type: str) -> AddressResult:
    text = body.decode("utf-8", errors="replace").strip()
    if content_type == "application/json" or text.startswith(("{", '"')):
        try:
            value: Any = json.loads(text)
        except ValueError:
            return AddressResult("error", error="address lookup answered malformed JSON")
        if isinstance(value, dict):
            value = value.get("address")
        if value is None or value == "":
            return NOT_FOUND
        if not isinstance(value, str):
            return AddressResult("error", error="address lookup answered no address string")
        text = value.strip()
    return AddressResult("found", address=text) if text else NOT_FOUND


def build_address_provider(
    kind: ProviderKind,
    *,
    path: Path | None = None,
    query: str = DEFAULT_SQLITE_QUERY,
    url_template: str | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = DEFAULT_LOOKUP_TIMEOUT_S,
    default_region: str | None = None,
) -> AddressProvider:
    if kind == "none":
        return NoAddressProvider()
    if kind == "csv":
        if path is None:
            raise ValueError("address_search.path is required for the csv provider")
        return CsvAddressProvider(path, default_region)
    if kind == "sqlite":
        if path is None:
            raise ValueError("address_search.path is required for the sqlite provider")
        return SqliteAddressProvider(path, query)
    if kind == "http":
        if not url_template:
            raise ValueError("address_search.url_template is required for the http provider")
        return HttpAddressProvider(url_template, timeout_s, headers)
    raise ValueError(f"unknown address search provider {kind!r}")


async def search_address(
    provider: AddressProvider, phone: str, timeout_s: float
) -> AddressResult:
    """Run one lookup, bounded by `timeout_s` whatever the provider does."""
    try:
        async with asyncio.timeout(timeout_s):
            return await provider.lookup(phone)
    except TimeoutError:
        return AddressResult("error", error=f"address search timed out after {timeout_s:g} s")
    except Exception as exc:  # a provider bug must not break answering
        return AddressResult("error", error=f"address search failed: {exc}")
