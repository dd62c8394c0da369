"""A schemathesis run against the served OpenAPI file, on a live app over loopback.

Every operation is called with generated valid data twice: as an agent logged in with a session
cookie and the X-CSRF-Token header, and with an admin's API token; where it declares parameters
or a body, also with invalid data, with the token. No answer may be a 5xx; every status code,
content type, header and body must be the one the file documents; invalid data must be refused
with a 4xx.

Generated calls may log the agent out, change passwords, demote or disable users and revoke
tokens; after such a call the callers are put back, so every example runs authenticated.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Coroutine
from dataclasses import dataclass
from http import HTTPStatus
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
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

# Small and derandomised, so the run takes seconds and finds the same thing every time.
POSITIVE_EXAMPLES = 5
NEGATIVE_EXAMPLES = 3
EXAMPLE_DEADLINE_MS = 5000
CALL_TIMEOUT_S = 10.0
REPORT_CHARS = 3000
AGENT = "fuzz-agent"
ADMIN = "fuzz-admin"
CALLERS = ("session", "token")
# A websocket cannot be driven by a plain HTTP client; tests/api/test_events_ws.py covers it.
SKIPPED_PATHS = {"/api/events"}
# Calls that may log a caller out, revoke its token, or change its user.
ACCOUNT_CHANGING = {"POST /api/logout", "POST /api/users/{id}", "POST /api/tokens/{id}/revoke"}


def not_a_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
        raise AssertionError(f"server error {response.status_code}: {response.text[:500]}")
    return None


POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_headers_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [*POSITIVE_CHECKS, negative_data_rejection]


@dataclass
class _Session:
    secret: str
    csrf: str


class Callers:
    """The two callers' credentials, checked and repaired on the app's loop before the first
    call and after any call that may have changed an account."""

    def __init__(self, env: Env, loop: asyncio.AbstractEventLoop) -> None:
        self._accounts: AccountService = env.workflow.accounts
        self._loop = loop
        self._session: _Session | None = None
        self._token: str | None = None
        self._checked: dict[str, Credentials] = {}

    def _on_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT_S)

    async def _restore_user(self, name: str, role: str) -> None:
        [user] = [u for u in await self._accounts.list_users() if u.username == name]
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
        if caller not in self._checked:
            self._checked[caller] = self._on_loop(
                self._agent() if caller == "session" else self._admin_token()
            )
        return self._checked[caller]

    def answered(self, operation: str, status: int) -> None:
        if operation in ACCOUNT_CHANGING or status == HTTPStatus.UNAUTHORIZED:
            self._checked.clear()


class Run:
    """Drives schemathesis from a worker thread while the app serves on the test's loop."""

    def __init__(self, schema: Any, base_url: str, callers: Callers) -> None:
        self.schema = schema
        self.base_url = base_url
        self.callers = callers
        self.http = requests.Session()
        # Cookies are the callers' to set: a login or logout answer must not change later calls.
        self.http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.failures: list[str] = []

    def send(self, case: Any, caller: str, checks: list[Any]) -> None:
        headers, cookies = self.callers.credentials(caller)
        response = case.call(base_url=self.base_url, session=self.http, headers=headers,
                             cookies=cookies, timeout=CALL_TIMEOUT_S)
        self.callers.answered(case.operation.label, response.status_code)
        case.validate_response(response, checks=checks, headers=headers)

    def examples(self, operation: Any, caller: str, mode: GenerationMode) -> None:
        positive = mode == GenerationMode.POSITIVE
        checks = POSITIVE_CHECKS if positive else NEGATIVE_CHECKS

        @settings(max_examples=POSITIVE_EXAMPLES if positive else NEGATIVE_EXAMPLES,
                  deadline=EXAMPLE_DEADLINE_MS, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            self.send(case, caller, checks)

        try:
            run()
        except (Exception, FailureGroup) as error:  # a group of check failures is a BaseException
            self.failures.append(
                f"{operation.label} as {caller}, {mode.value} data: {str(error)[:REPORT_CHARS]}"
            )

    def __call__(self) -> list[str]:
        try:
            for result in self.schema.get_all_operations():
                operation = result.ok()
                if operation.path in SKIPPED_PATHS:
                    continue
                # Invalid data only where input is declared, and by the admin token, whom no
                # role check stops before the input is read.
                negative = "parameters" in operation.definition.raw or bool(operation.body)
                for caller in CALLERS:
                    self.examples(operation, caller, GenerationMode.POSITIVE)
                    if negative and caller == "token":
                        self.examples(operation, caller, GenerationMode.NEGATIVE)
        finally:
            self.http.close()
        return self.failures


def _without_security(document: dict[str, Any]) -> dict[str, Any]:
    """The file without its security requirements, which the callers meet themselves: else
    schemathesis would generate credentials, and count a request made invalid only by a
    generated credential (replaced before sending) as invalid data the server accepted."""
    document = copy.deepcopy(document)
    document.pop("security", None)
    for item in document["paths"].values():
        for operation in item.values():
            operation.pop("security", None)
    return document


@pytest.mark.timeout(120)
async def test_every_operation_answers_as_its_openapi_file_says(env: Env) -> None:
    await env.user(AGENT)
    await env.user(ADMIN, "admin")
    # Something for generated ids to find: waiting requests, an open case with a conversation,
    # a closed case, and cases of another agent.
    await env.text_in("hello")
    await env.text_in("another customer", sender="+15557654321")
    colleague = await env.login("colleague")
    _, started = await colleague.post("/api/cases", {"phone": "+15551230000"})
    await colleague.post(f"/api/cases/{started['case']['id']}/messages", {"text": "Hi there"})
    _, other = await colleague.post("/api/cases", {"phone": "+15551230001"})
    await colleague.post(f"/api/cases/{other['case']['id']}/close")
    served = await env.client.get("/api/openapi.json")
    assert served.status == 200
    schema = schemathesis.openapi.from_dict(_without_security(await served.json()))
    base_url = str(env.client.make_url("")).rstrip("/")
    run = Run(schema, base_url, Callers(env, asyncio.get_running_loop()))
    failures = await asyncio.to_thread(run)
    assert not failures, "\n\n".join(failures)
