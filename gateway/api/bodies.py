"""Request bodies and query strings, validated strictly: unknown fields are refused."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.api.errors import ApiError
from gateway.api.keys import CONFIG

MAX_TEXT_CHARS = 10_000  # far above any max_parts; the real limit is the parts count
MAX_PREVIEW_CHARS = MAX_TEXT_CHARS
# Users, cases, requests and tokens have 32-bit keys (INTEGER on PostgreSQL); messages and the
# audit log 64-bit ones, of which clients may use what a JSON number holds exactly.
MAX_ROW_ID = 2**31 - 1
MAX_LOG_ID = 2**53
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# No body of ours nests deeper than a few levels; 100,000 `[` must be a 400, not a crash.
MAX_JSON_DEPTH = 32


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class LoginBody(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class AnswerBody(Body):
    action: Literal["new", "continue"] = "new"
    case_id: Annotated[int, Field(ge=1, le=MAX_ROW_ID)] | None = None


class StartChatBody(Body):
    phone: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    line: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None


class SendBody(Body):
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]
    client_id: ClientId | None = None
    override_opt_out: bool = False


class ReassignBody(Body):
    agent: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class CreateUserBody(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    role: Literal["agent", "supervisor", "admin"]
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)] | None = None


class UpdateUserBody(Body):
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)] | None = None
    disabled: bool | None = None
    role: Literal["agent", "supervisor", "admin"] | None = None


class ClearLoginLimitsBody(Body):
    """Neither field: every counter."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    address: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None


class CreateTokenBody(Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    user: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    scopes: Annotated[list[str], Field(max_length=20)]


B = TypeVar("B", bound=Body)


async def read_body(request: web.Request, model: type[B]) -> B:
    """Parse the JSON body into `model`; the app's client_max_size bounds its size."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        async with asyncio.timeout(request.app[CONFIG].http.body_timeout_s):
            raw = await request.read()
    except TimeoutError as error:
        raise ApiError(408, "request_timeout", "the body did not arrive in time") from error
    try:
        data = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {error}") from error
    except RecursionError as error:
        raise ApiError(400, "invalid_json",
                       f"the body nests deeper than {MAX_JSON_DEPTH} levels") from error
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    _check_text(data, "")
    return model.model_validate(data)


def _check_text(value: object, where: str, depth: int = 0) -> None:
    """Refuse what no database column can hold: NUL characters and lone UTF-16 surrogates
    (JSON's \\u escapes can carry both); and nesting deeper than MAX_JSON_DEPTH."""
    if depth > MAX_JSON_DEPTH:
        raise ApiError(400, "invalid_json", f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiError(400, "invalid_input", f"{where or 'body'}: NUL characters are refused")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ApiError(400, "invalid_input",
                           f"{where or 'body'}: not valid Unicode (a lone surrogate)") from error
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where, depth + 1)
            _check_text(item, f"{where}.{key}" if where else str(key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{where}[{index}]", depth + 1)


def query_int(
    request: web.Request, name: str, *, default: int | None, low: int, high: int
) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise ApiError(400, "invalid_input", f"{name} must be a whole number")
    if len(raw) > len(str(high)) + 1:  # int() of thousands of digits is slow, then refused
        raise ApiError(400, "invalid_input", f"{name} must be from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise ApiError(400, "invalid_input", f"{name} must be from {low} to {high}")
    return value


def query_bool(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise ApiError(400, "invalid_input", f"{name} must be true or false")
    return raw in ("true", "1")


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_ROW_ID:
        raise ApiError(404, "not_found", f"no such {name}")
    return int(raw)
