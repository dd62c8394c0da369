"""A schemathesis run against the served OpenAPI file, on a live app over loopback.

Every operation is called with generated valid data (and, where it has parameters or a body,
invalid data) twice: as an agent logged in with a session cookie and the X-CSRF-Token header,
and with an admin's API token. No answer may be a 5xx, and every status code, content type,
header and body must be the one the file documents; invalid data must be refused with a 4xx.

Generated calls may log the agent out, change passwords, demote or disable users and revoke
tokens; before each call the callers are put back, so every example runs authenticated.
"""

from __future__ import annotations

import asyncio
from http.cookiejar import DefaultCookiePolicy
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.api.auth import CSRF_HEADER, SESSION_COOKIE
from gateway.service.access import SCOPES
from gateway.service.accounts import AccountService

from .conftest import PASSWORD, Env

T = TypeVar("T")
Credentials = tuple[dict[str, str], dict[str, str]]  # headers, cookies
# Small and fixed (derandomised), so the run takes seconds and fails the same way every time.
MAX_EXAMPLES = 5
NEGATIVE_EXAMPLES = 3
EXAMPLE_DEADLINE_MS = 5000
CALL_TIMEOUT_S = 10.0
REPORT_CHARS = 3000
AGENT = "fuzz-agent"
ADMIN = "fuzz-admin"
# A websocket cannot be driven by a plain HTTP client; tests/api/test_events_ws.py covers it.
SKIPPED_PATHS = {"/api/events"}


def _not_a_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 500:
        raise AssertionError(f"server error {response.status_code}: {response.text[:500]}")
    return None


POSITIVE_CHECKS = [_not_a_server_error, status_code_conformance, content_type_conformance,
                   response_headers_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [*POSITIVE_CHECKS, negative_data_rejection]


@dataclass
class _Session:
    secret: str
    csrf: str


class Callers:
    """The two callers' credentials, repaired on the app's loop before every generated call."""

    def __init__(self, env: Env, loop: asyncio.AbstractEventLoop) -> None:
        self._accounts: AccountService = env.workflow.accounts
        self._loop = loop
        self._session: _Session | None = None
        self._token: str | None = None

    def _on_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT_S)

    async def _restore_user(self, name: str, role: str) -> None:
        user = await self._accounts.repo.get_user_by_name(name)
        assert user is not None
        if user.disabled:
            await self._accounts.set_disabled(name, False)
        if user.role != role:
            await self._accounts.set_role(name, role)

    async def _agent(self) -> Credentials:
        await self._restore_user(AGENT, "agent")
        if self._session is None or await self._accounts.authenticate_session(
            self._session.secret
        ) is None:
            await self._accounts.set_password(AGENT, PASSWORD)
            result = await self._accounts.login(AGENT, PASSWORD, "fuzz")
            self._session = _Session(result.session_secret, result.csrf_token)
        return {CSRF_HEADER: self._session.csrf}, {SESSION_COOKIE: self._session.secret}

    async def _admin_token(self) -> Credentials:
        await self._restore_user(ADMIN, "admin")
        if self._token is None or await self._accounts.authenticate_token(self._token) is None:
            self._token = (await self._accounts.create_token("fuzz", ADMIN, SCOPES)).secret
        return {"Authorization": f"Bearer {self._token}"}, {}

    def credentials(self, caller: str) -> Credentials:
        return self._on_loop(self._agent() if caller == "session" else self._admin_token())


def _examples(
    operation: Any, mode: GenerationMode, count: int, checks: list[Any], send: Callable[..., Any]
) -> Callable[[], None]:
    @settings(max_examples=count, deadline=EXAMPLE_DEADLINE_MS, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        send(case, checks)

    return run  # type: ignore[no-any-return]


def _run(schema: Any, base_url: str, credentials: Callable[[str], Credentials]) -> list[str]:
    """Every operation, both callers, both generation modes; returns the failures found."""
    failures: list[str] = []
    http = requests.Session()
    # Cookies are the caller's to set: a login or logout answer must not change later calls.
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in SKIPPED_PATHS:
                continue
            has_input = bool(operation.body) or any(True for _ in operation.iter_parameters())
            modes = [(GenerationMode.POSITIVE, MAX_EXAMPLES, POSITIVE_CHECKS)]
            if has_input:
                modes.append((GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, NEGATIVE_CHECKS))
            for caller in ("session", "token"):

                def send(case: Any, checks: list[Any], caller: str = caller) -> None:
                    sent_headers, cookies = credentials(caller)
                    # Replace the random credentials generated for the security schemes.
                    if case.headers:
                        case.headers.pop("Authorization", None)
                    if case.cookies:
                        case.cookies.pop(SESSION_COOKIE, None)
                    case.call_and_validate(base_url=base_url, session=http,
                                           headers=sent_headers, cookies=cookies,
                                           checks=checks, timeout=CALL_TIMEOUT_S)

                for mode, count, checks in modes:
                    try:
                        _examples(operation, mode, count, checks, send)()
                    except Exception as error:  # noqa: BLE001 - every failure is reported
                        failures.append(f"{operation.label} as {caller}, {mode.value} data:"
                                        f" {str(error)[:REPORT_CHARS]}")
    finally:
        http.close()
    return failures


@pytest.mark.timeout(120)
async def test_every_operation_answers_as_its_openapi_file_says(env: Env) -> None:
    await env.user(AGENT)
    await env.user(ADMIN, "admin")
    await env.user("colleague")
    # Something for ids to find: a waiting request, an open case with a conversation, a closed
    # case, another agent's case.
    await env.text_in("hello")
    await env.text_in("another customer", sender="+15557654321")
    agent = await env.login("seed-agent")
    _, started = await agent.post("/api/cases", {"phone": "+15551230000"})
    await agent.post(f"/api/cases/{started['case']['id']}/messages", {"text": "Hi there"})
    _, other = await agent.post("/api/cases", {"phone": "+15551230001"})
    await agent.post(f"/api/cases/{other['case']['id']}/close")
    served = await env.client.get("/api/openapi.json")
    assert served.status == 200
    schema = schemathesis.openapi.from_dict(await served.json())
    base_url = str(env.client.make_url("")).rstrip("/")
    callers = Callers(env, asyncio.get_running_loop())
    failures = await asyncio.to_thread(_run, schema, base_url, callers.credentials)
    assert not failures, "\n\n".join(failures)
