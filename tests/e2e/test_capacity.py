"""Presence and capacity in the console: an agent at routing.max_open_cases sees the queue but
is not rung and cannot answer; an agent under the cap is rung."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import Consoles, Gateway, new_customer
from tests.e2e.test_console import answer, request_card

expect.set_options(timeout=15_000)
DAEMON_CONFIG = """routing:
  max_open_cases: 1
"""


def test_an_agent_at_capacity_is_not_rung(gateway: Gateway, consoles: Consoles) -> None:
    first, second = new_customer(), new_customer()
    alice = consoles.login("alice")
    bob = consoles.login("bob")
    gateway.text(first, "First customer")
    answer(alice, first)
    expect(alice.locator(".presence-load")).to_contain_text("Open cases 1/1 · at your limit")
    gateway.text(second, "Second customer")
    card = request_card(alice, second)
    expect(card).to_be_visible()  # the queue is still shown
    bob.wait_for_function("() => window.smsConsole.alerts.ringing")  # bob is rung
    assert alice.evaluate("() => window.smsConsole.alerts.ringing") is False
    card.locator(".answer").click()
    expect(alice.locator(".banner")).to_contain_text("the limit is 1")
    # Away, bob is not rung either; available again, he is.
    bob.locator("#presence-status").select_option("away")
    bob.wait_for_function("() => !window.smsConsole.alerts.ringing")
    bob.locator("#presence-status").select_option("available")
    bob.wait_for_function("() => window.smsConsole.alerts.ringing")
    window = answer(bob, second)
    expect(window.locator(".msg-in .msg-text")).to_have_text(["Second customer"])
