"""Browser tests: the real daemon (a subprocess, with a simulated modem on a pty) and the system
Chromium driven by Playwright. One daemon and one browser per module (starting them is most of
the cost); every test uses its own customer numbers and its own browser contexts."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 720}
PASSWORD = "e2e-password-1"
GATEWAY_NUMBER = "+15550100"
ADDRESSED_CUSTOMER = "+15551234567"
ADDRESS = "12 Harbour Road, Springfield"
USERS = (("alice", "agent"), ("bob", "agent"), ("sam", "supervisor"))
REPO = Path(__file__).resolve().parents[2]
# A test run leaves the working tree as it was: screenshots go to build/ (ignored by git);
# `make screenshots` points this at docs/screenshots to refresh the README's pictures.
SCREENSHOTS = Path(os.environ.get("SMS_GATEWAY_SCREENSHOTS", REPO / "build" / "screenshots"))
START_TIMEOUT_S = 40.0
# pytest-timeout counts fixture set-up: the first test of a module also waits for the daemon and
# the browser to start, and every step may wait up to expect()'s 15 s on a loaded machine.
TEST_TIMEOUT_S = 240
_numbers = itertools.count(1)
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed browser test reports what the daemon logged and what each page showed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    gateway = funcargs.get("gateway")
    if isinstance(gateway, Gateway):
        lines = gateway.log_path.read_text(errors="replace").splitlines()
        notable = [line for line in lines if '"level": "info"' not in line]
        report.sections.append(("daemon log: warnings and errors", "\n".join(notable[-60:])))
    consoles = funcargs.get("consoles")
    if isinstance(consoles, Consoles):
        report.sections.append(("pages", consoles.describe()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def new_customer() -> str:
    """A customer number no other test uses."""
    return f"+1555700{next(_numbers):04d}"


def _json(method: str, url: str, body: Any = None, opener: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with (opener or urllib.request.build_opener()).open(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


@dataclass
class Gateway:
    url: str
    directory: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def control(self) -> str:
        return f"{self.url}/sim/api"

    def text(self, sender: str, text: str, to: str = GATEWAY_NUMBER) -> None:
        """The customer's handset sends a text to the gateway's line."""
        _json("POST", f"{self.control}/handsets/{sender}/send", {"to": to, "text": text})

    def inbox(self, number: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = _json("GET", f"{self.control}/handsets/{number}/inbox")
        return result

    def wait_inbox(self, number: str, count: int, timeout_s: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while True:
            inbox = self.inbox(number)
            if len(inbox) >= count:
                return inbox
            if time.monotonic() > deadline:
                raise AssertionError(f"{number} has {len(inbox)} messages, expected {count}")
            time.sleep(0.2)

    def fault(self, kind: str, modem: str = "demo", **params: Any) -> None:
        _json("POST", f"{self.control}/modems/{modem}/faults", {"kind": kind, **params})

    def network_fault(self, kind: str, **params: Any) -> None:
        _json("POST", f"{self.control}/network/faults", {"kind": kind, **params})

    def api_session(self, username: str) -> Callable[..., Any]:
        """A logged-in API client (for set-up and checks the page does not show)."""
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = _json("POST", f"{self.url}/api/login",
                      {"username": username, "password": PASSWORD}, opener)
        csrf = login["csrf_token"]

        def call(method: str, path: str, body: Any = None) -> Any:
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(
                f"{self.url}{path}", data=data, method=method,
                headers={"Content-Type": "application/json", "X-CSRF-Token": csrf,
                         "Origin": self.url},
            )
            with opener.open(request, timeout=10) as response:
                return json.loads(response.read() or b"null")

        return call

    def reset(self) -> None:
        """Close every open case and answer-and-close every waiting request, so that a test
        (one that failed half-way too) leaves nothing for the next test of the module."""
        for username, role in USERS:
            if role != "agent":
                continue
            api = self.api_session(username)
            for case in api("GET", "/api/cases?status=open")["cases"]:
                api("POST", f"/api/cases/{case['id']}/close")
        api = self.api_session(USERS[0][0])
        for request in api("GET", "/api/requests")["requests"]:
            try:
                answered = api("POST", f"/api/requests/{request['id']}/answer", {"action": "new"})
            except urllib.error.HTTPError as error:
                if error.code == 409:
                    continue  # answered meanwhile (and closed above or by its test)
                raise
            api("POST", f"/api/cases/{answered['case']['id']}/close")

    def wait_line_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        api = self.api_session("sam")
        deadline = time.monotonic() + timeout_s
        while True:
            lines = api("GET", "/api/lines")["lines"]
            if lines and all(line["state"] == "ready" for line in lines):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"lines not ready: {lines}")
            time.sleep(0.2)


def _write_config(
    directory: Path, port: int, control_port: int, proxy_port: int, extra: str = ""
) -> Path:
    (directory / "addresses.csv").write_text(f'phone,address\n{ADDRESSED_CUSTOMER},"{ADDRESS}"\n')
    config = directory / "config.yaml"
    config.write_text(
        f"""data_dir: {directory / "data"}
default_region: US
http:
  listen: 127.0.0.1:{port}
  # The network-drop test's proxy stands between browser and daemon, as a reverse proxy would.
  trusted_origins: ["http://127.0.0.1:{proxy_port}"]
simulator:
  control: 127.0.0.1:{control_port}
modems:
  - name: demo
    number: "{GATEWAY_NUMBER}"
    simulator: true
sending:
  retry_limit: 0
address_search:
  provider: csv
  path: {directory / "addresses.csv"}
logging:
  level: warning
  format: json
{extra}"""
    )
    (directory / "data").mkdir()
    return config


def _wait_ready(gateway: Gateway) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            break
        if b"READY" in gateway.log_path.read_bytes():
            return
        time.sleep(0.1)
    log = gateway.log_path.read_text(errors="replace")[-4000:]
    raise AssertionError(f"the daemon did not start:\n{log}")


@pytest.fixture(scope="module")
def daemon(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Gateway]:
    """The daemon process, started (not yet ready): it boots while the browser starts. A test
    module may add configuration sections in its DAEMON_CONFIG (YAML text)."""
    require_tool(shutil.which("chromium") is not None,
                 "the browser tests need Chromium (Debian package chromium)")
    directory = tmp_path_factory.mktemp("gateway")
    port, proxy_port = free_port(), free_port()
    config = _write_config(directory, port, free_port(), proxy_port,
                           getattr(request.module, "DAEMON_CONFIG", ""))
    log_path = directory / "daemon.log"
    users = [arg for name, role in USERS for arg in ("--user", f"{name}:{role}")]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.serve", "--config", str(config), *users],
            stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    assert process.stdin is not None
    process.stdin.write(f"{PASSWORD}\n".encode())
    process.stdin.close()
    try:
        yield Gateway(f"http://127.0.0.1:{port}", directory, log_path, process,
                      {"proxy_port": proxy_port})
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(daemon: Gateway) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def gateway(daemon: Gateway, browser: Any) -> Gateway:
    """The daemon, ready: HTTP up, users created, every line registered."""
    _wait_ready(daemon)
    daemon.wait_line_ready()
    return daemon


class Consoles:
    """Opens pages in fresh browser contexts (each its own cookies: a separate agent)."""

    def __init__(self, browser: Any, gateway: Gateway) -> None:
        self.browser = browser
        self.gateway = gateway
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def page(self, path: str = "/", base: str | None = None, *, user: str | None = None) -> Any:
        """A page in a new context; with `user`, its session cookie is set before loading."""
        base = base or self.gateway.url
        context = self.browser.new_context(viewport=VIEWPORT)
        self.contexts.append(context)
        if user is not None:
            response = context.request.post(f"{base}/api/login", headers={"Origin": base},
                                            data={"username": user, "password": PASSWORD})
            assert response.ok, response.text()
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(f"{base}{path}")
        return page

    def login(self, username: str, base: str | None = None, *, form: bool = False) -> Any:
        """A console with `username` logged in: through the form (a click, so sound is on),
        or by the API (faster) and a page load, as after a reload."""
        if not form:
            page = self.page("/", base, user=username)
        else:
            page = self.page("/", base)
            page.locator("#login-username").fill(username)
            page.locator("#login-password").fill(PASSWORD)
            page.locator("#login-submit").click()
        wait_connected(page)
        return page

    def describe(self) -> str:
        """Each open page's address, banners and status lines (for a failure report)."""
        out = []
        for context in self.contexts:
            for page in context.pages:
                try:
                    shown = page.evaluate(
                        """() => [...document.querySelectorAll('.banner, [role=status]')]
                            .map((e) => e.textContent.trim()).filter(Boolean)"""
                    )
                except Exception as error:  # a page that is gone says so
                    shown = [f"(not readable: {error})"]
                out.append(f"{page.url}: {shown}")
        return "\n".join(out)

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def wait_connected(page: Any) -> None:
    page.locator("#app-view").wait_for(state="visible")
    page.wait_for_function("() => window.smsConsole.events.state === 'open'")


@pytest.fixture
def consoles(gateway: Gateway, browser: Any) -> Iterator[Consoles]:
    opened = Consoles(browser, gateway)
    try:
        yield opened
    finally:
        opened.close()
        gateway.reset()
    assert not opened.errors, f"errors in the page: {opened.errors}"


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
