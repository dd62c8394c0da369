"""`make bench-flood` (`python -m bench.flood`): the request queue and the console under a flood of
waiting requests, recorded in docs/BENCHMARKS.md ("Flood").

The service and the HTTP app run in this process over a SQLite store in a temporary folder (or a
PostgreSQL database with --pg-url), served on a real TCP port as the daemon serves them; the
waiting requests are written straight into the store (tests/flood.py), as routing leaves them.
Figures:
- `GET /api/requests` with 10,000 waiting: the client's time for the default page (100), for a
  page of 500, and for a page from the middle of the queue (`after`); the SQL statements each
  runs (the same for 10 and for 10,000 waiting);
- the console in Chromium (Playwright over /usr/bin/chromium) with 2,000 waiting: from the
  click on Answer of the oldest request to its case tab open with the reply box focused, and
  the time to type 17 characters into that box.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Engine, event

from gateway.api.app import create_app
from gateway.api.site import start_site
from gateway.bus import EventBus
from gateway.config import parse_config
from gateway.console import add_console_routes
from gateway.service.workflow import Workflow
from gateway.store import Store
from tests.flood import seed_waiting

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
MARKER = "<!-- flood runs, newest first (bench/flood.py) -->"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "bench-password-1"
TYPED = "Hello, how can I?"  # 17 characters
API_TARGET_MS = 50.0
ANSWER_TARGET_MS = 300.0
OVERDUE_AFTER_S = 7 * 86400
WAIT_MS = 120_000  # a loaded machine can be slow; the figures say how slow
BASELINE_WAITING = 20  # the same console with a short queue, for comparison

SHOWS_COUNT_JS = "(n) => document.getElementById('requests-count').textContent === String(n)"
# Clicks Answer on the first (oldest) request and resolves when a case window shows with its
# reply box focused and the browser has painted: the milliseconds in between.
ANSWER_TO_TAB_JS = """async () => {
  const card = document.querySelector('#requests .request');
  const phone = card.querySelector('.request-call-id').textContent.replace(/^SMS/, '');
  const button = card.querySelector('button.answer, button.answer-new');
  const started = performance.now();
  button.click();
  await new Promise((resolve) => {
    const check = () => {
      const win = document.activeElement?.closest('.case-window:not([hidden])');
      const chat = win?.querySelector('.chat');
      if (document.activeElement.tagName === 'TEXTAREA'
          && chat?.getAttribute('aria-label') === `Conversation with ${phone}`) resolve();
      else requestAnimationFrame(check);
    };
    check();
  });
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return performance.now() - started;
}"""


@dataclass
class Served:
    url: str
    store: Store
    workflow: Workflow
    statements: list[str]


@contextlib.asynccontextmanager
async def serve(directory: Path, waiting: int, pg_url: str | None) -> AsyncIterator[Served]:
    """The workflow and the app (API and console) over a store holding `waiting` requests."""
    url = pg_url or f"sqlite+aiosqlite:///{directory / 'store.db'}"
    store = await Store.open(url, default_region="US")
    # Not overdue during the run: marking thousands overdue at once is a burst of its own.
    config = parse_config({"data_dir": str(directory), "default_region": "US",
                           "routing": {"overdue_after_s": OVERDUE_AFTER_S},
                           "logging": {"level": "warning"}}, base_dir=directory)
    workflow = Workflow.from_config(config, store=store, bus=EventBus(),
                                    clock=lambda: datetime.now(UTC), wake_outbound=lambda: None)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None  # a store thread's, working for the request
        if task is None or not task.get_name().startswith("workflow-"):
            statements.append(statement)  # not the router's ticker

    try:
        line = await store.lines.ensure("line-1", "+15550000001", now=datetime.now(UTC))
        agent, _ = await workflow.accounts.add_user("agent1", "agent", PASSWORD)
        await seed_waiting(store, line.id, waiting, start=0,
                           first_at=datetime.now(UTC) - timedelta(seconds=waiting + 60),
                           closed_case_every=5, agent_id=agent.id)
        await workflow.start()
        app = create_app(workflow=workflow, config=config)
        add_console_routes(app)
        runner, base = await start_site(app, "127.0.0.1", 0)
        # Every engine: the store's sessions and its threads each have their own.
        event.listen(Engine, "before_cursor_execute", count)
        try:
            yield Served(base, store, workflow, statements)
        finally:
            event.remove(Engine, "before_cursor_execute", count)
            await runner.cleanup()
            await workflow.stop()
    finally:
        await store.close()


async def login(http: aiohttp.ClientSession, url: str) -> None:
    async with http.post(f"{url}/api/login", json={"username": "agent1", "password": PASSWORD},
                         headers={"Origin": url}) as reply:
        reply.raise_for_status()


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))],
            "max": ordered[-1]}


async def time_get(http: aiohttp.ClientSession, url: str, rounds: int) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        async with http.get(url) as reply:
            reply.raise_for_status()
            await reply.read()
        samples.append((time.perf_counter() - began) * 1000)
    return summary(samples)


async def api_figures(directory: Path, waiting: int, rounds: int,
                      pg_url: str | None) -> dict[str, Any]:
    async with serve(directory, waiting, pg_url) as served, aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        await login(http, served.url)
        base = f"{served.url}/api/requests"
        async with http.get(f"{base}?limit=1") as reply:
            first = await reply.json()
        middle = first["oldest"]["id"] + waiting // 2
        await time_get(http, base, 3)  # warm: connections, statement caches
        cpu = time.process_time()
        figures: dict[str, Any] = {
            "default": await time_get(http, base, rounds),
            "cpu_ms": (time.process_time() - cpu) * 1000 / rounds,
            "limit500": await time_get(http, f"{base}?limit=500", rounds),
            "middle": await time_get(http, f"{base}?after={middle}", rounds),
        }
        served.statements.clear()
        await time_get(http, base, 1)
        figures["statements"] = len(served.statements)
        figures["count"] = first["count"]
    return figures


async def console_figures(directory: Path, waiting: int, rounds: int,
                          pg_url: str | None) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    async with serve(directory, waiting, pg_url) as served, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 720})
            reply = await context.request.post(
                f"{served.url}/api/login", headers={"Origin": served.url},
                data={"username": "agent1", "password": PASSWORD})
            assert reply.ok, await reply.text()
            page = await context.new_page()
            began = time.perf_counter()
            await page.goto(served.url)
            await page.wait_for_function(SHOWS_COUNT_JS, arg=waiting, timeout=WAIT_MS)
            load_ms = (time.perf_counter() - began) * 1000
            answer, typing = [], []
            for n in range(rounds):
                answer.append(float(await page.evaluate(ANSWER_TO_TAB_JS)))
                await page.wait_for_function(SHOWS_COUNT_JS, arg=waiting - n - 1,
                                             timeout=WAIT_MS)
                began = time.perf_counter()
                await page.keyboard.type(TYPED)
                typing.append((time.perf_counter() - began) * 1000)
            nodes = await page.evaluate("document.querySelectorAll('#requests .request').length")
        finally:
            await browser.close()
    return {"answer": summary(answer), "typing": summary(typing), "load_ms": load_ms,
            "rendered": nodes}


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def record(api: dict[str, Any], console: dict[str, Any], args: argparse.Namespace,
           load: str) -> str:
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
               f", API on {'PostgreSQL' if args.pg_url else 'SQLite'}")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def ms(figures: dict[str, float]) -> str:
        return f"{figures['p50']:.1f} / {figures['p95']:.1f} / {figures['max']:.1f}"

    ok_api = "met" if api["default"]["p95"] < API_TARGET_MS else "missed"
    base = console["baseline"]
    ok_answer = "met" if console["answer"]["p95"] < ANSWER_TARGET_MS else "missed"
    return "\n".join([
        f"#### {when} — {machine}, load {load}",
        "",
        "| figure (p50 / p95 / max, ms) | measured | target |",
        "|---|---|---|",
        f"| `GET /api/requests`, {args.requests:,} waiting, default page (100) |"
        f" {ms(api['default'])} | < {API_TARGET_MS:.0f}: {ok_api} |",
        f"| `GET /api/requests?limit=500`, {args.requests:,} waiting | {ms(api['limit500'])} | |",
        f"| `GET /api/requests?after=` (middle of the queue) | {ms(api['middle'])} | |",
        f"| Process CPU per `GET /api/requests`, default page, server and client (ms) |"
        f" {api['cpu_ms']:.1f} | |",
        f"| SQL statements per `GET /api/requests` (session check included) |"
        f" {api['statements']} | constant |",
        f"| Console, {args.console_requests:,} waiting: Answer to case tab with the reply box"
        f" focused ({args.rounds} answers) | {ms(console['answer'])} |"
        f" < {ANSWER_TARGET_MS:.0f}: {ok_answer} |",
        f"| Console: typing 17 characters into the reply box | {ms(console['typing'])} | |",
        f"| Console, {BASELINE_WAITING} waiting (baseline): Answer to case tab |"
        f" {ms(base['answer'])} | |",
        f"| Console, {BASELINE_WAITING} waiting (baseline): typing 17 characters |"
        f" {ms(base['typing'])} | |",
        f"| Console: page load until the count shows (ms) | {console['load_ms']:.0f} | |",
        f"| Console: requests rendered | {console['rendered']} of {args.console_requests:,} |"
        " |",
        "",
    ])


def write_record(section: str) -> None:
    text = RESULTS.read_text(encoding="utf-8")
    if MARKER not in text:
        raise SystemExit(f"{RESULTS} has no line {MARKER!r} to record under")
    RESULTS.write_text(text.replace(MARKER, f"{MARKER}\n\n{section}", 1), encoding="utf-8")


async def main(args: argparse.Namespace) -> None:
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="flood-api-") as directory:
        api = await api_figures(Path(directory), args.requests, args.api_rounds, args.pg_url)
    with tempfile.TemporaryDirectory(prefix="flood-console-") as directory:
        console = await console_figures(Path(directory), args.console_requests, args.rounds,
                                        None)
    with tempfile.TemporaryDirectory(prefix="flood-baseline-") as directory:
        console["baseline"] = await console_figures(Path(directory), BASELINE_WAITING,
                                                    args.rounds, None)
    section = record(api, console, args, f"{load} → {load_average()}")
    print(section)
    if not args.no_record:
        write_record(section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--console-requests", type=int, default=2_000)
    parser.add_argument("--api-rounds", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10, help="answers in the console")
    parser.add_argument("--pg-url", help="the API's store: this (empty) PostgreSQL database"
                        " instead of SQLite; the console runs on SQLite")
    parser.add_argument("--no-record", action="store_true")
    asyncio.run(main(parser.parse_args()))
