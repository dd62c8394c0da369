"""A flood of texts from hundreds of numbers: the console shows how many wait and who has waited
longest, renders only the oldest of them, follows the flood live, and answering still works.
A module of its own, so its daemon's queue stays out of the other browser tests."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import GATEWAY_NUMBER, Consoles, Gateway, _json

FLOOD = 300
WINDOW = 50  # gateway/console/js/queue.js
FLOOD_TIMEOUT_MS = 120_000


def flood(gateway: Gateway, count: int) -> list[str]:
    numbers = [f"+1555800{n:04d}" for n in range(count)]
    messages = [{"from": number, "to": GATEWAY_NUMBER, "text": f"flood {n}"}
                for n, number in enumerate(numbers)]
    _json("POST", f"{gateway.control}/handsets/send", {"messages": messages})
    return numbers


@pytest.mark.timeout(240)  # the simulated modem delivers 300 texts first
def test_console_shows_count_and_oldest_of_a_flood_and_answers(
    gateway: Gateway, consoles: Consoles
) -> None:
    alice = consoles.login("alice")
    flood(gateway, FLOOD)
    # Followed live: the count climbs with the events, the list stays a window.
    expect(alice.locator("#requests-count")).to_have_text(str(FLOOD), timeout=FLOOD_TIMEOUT_MS)
    api = gateway.api_session("sam")
    page = api("GET", "/api/requests?limit=2")
    assert page["count"] == FLOOD
    oldest: dict[str, Any] = page["oldest"]
    expect(alice.locator(".request")).to_have_count(WINDOW)
    expect(alice.locator("#requests-oldest")).to_contain_text(oldest["call_id"])
    shown = f"Showing the {WINDOW} oldest of {FLOOD}."
    expect(alice.locator("#requests-shown")).to_have_text(shown)
    first = alice.locator(".request").first
    expect(first.locator(".request-call-id")).to_have_text(oldest["call_id"])

    # A console opened in the middle of it loads the same, from one page of the API.
    sam = consoles.login("sam")
    expect(sam.locator("#requests-count")).to_have_text(str(FLOOD))
    expect(sam.locator(".request")).to_have_count(WINDOW)
    expect(sam.locator("#requests-oldest")).to_contain_text(oldest["call_id"])

    # Answering the oldest: its case opens, both consoles count one fewer, the next is oldest.
    first.get_by_role("button", name=re.compile("^Answer")).click()
    window = alice.locator(".case-window:not([hidden])", has=alice.locator(
        f'.chat[aria-label="Conversation with {oldest["phone"]}"]'))
    expect(window).to_be_visible()
    expect(window.locator(".composer textarea, textarea").first).to_be_focused()
    for console in (alice, sam):
        expect(console.locator("#requests-count")).to_have_text(str(FLOOD - 1))
        expect(console.locator(".request")).to_have_count(WINDOW)
        expect(console.locator("#requests-oldest")).to_contain_text(page["requests"][1]["call_id"])
        expect(console.locator(".request", has_text=oldest["call_id"])).to_have_count(0)

    # More on request, still not the whole flood.
    alice.locator("#requests-more-button").click()
    expect(alice.locator(".request")).to_have_count(2 * WINDOW)
