"""The agents' desk in Chromium against the real daemon: notes, canned replies, wrap-up,
contacts, transfer, search, transcripts, capacity, the live floor and the admin screens."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Consoles, Gateway, new_customer
from tests.e2e.test_console import answer

expect.set_options(timeout=15_000)


def test_a_note_shows_in_the_timeline_and_the_handset_receives_nothing(
    gateway: Gateway, consoles: Consoles
) -> None:
    customer = new_customer()
    page = consoles.login("alice")
    gateway.text(customer, "My parcel never came")
    window = answer(page, customer)
    window.locator(".note-input").fill("Courier says it was left with a neighbour")
    window.locator(".add-note").click()
    note = window.locator(".msg-note-item")
    expect(note).to_contain_text("Courier says it was left with a neighbour")
    expect(note).to_contain_text("Internal note by alice")
    expect(window.locator(".note-input")).to_have_value("")
    api = gateway.api_session("alice")
    case_id = int((window.locator(".case-id").text_content() or "").lstrip("#"))
    history = api("GET", f"/api/cases/{case_id}/messages")["messages"]
    assert [m["direction"] for m in history] == ["in"]
    assert gateway.inbox(customer) == []
    # A reload shows the note again, from the server.
    page.reload()
    window = answer_window(page, customer)
    expect(window.locator(".msg-note-item")).to_contain_text("left with a neighbour")


def answer_window(page: Any, customer: str) -> Any:
    window = page.locator(".case-window", has=page.locator(
        f'.chat[aria-label="Conversation with {customer}"]'))
    page.locator(".tab", has_text=customer).click()
    expect(window).to_be_visible()
    return window


def test_a_canned_reply_fills_the_composer_and_goes_only_on_send(
    gateway: Gateway, consoles: Consoles
) -> None:
    customer = new_customer()
    sam = gateway.api_session("sam")
    sam("POST", "/api/canned", {"title": "Help desk greeting", "shortcut": "hello", "shared": True,
                                "text": "Hello {contact}, this is {agent} from the help desk."})
    page = consoles.login("alice")
    gateway.text(customer, "Is anyone there?")
    window = answer(page, customer)
    composer = window.locator("textarea.compose-text")
    composer.fill("/hel")
    popup = window.locator(".canned-popup")
    expect(popup).to_be_visible()
    expect(popup.locator(".canned-item").first).to_contain_text("Help desk greeting")
    composer.press("Enter")
    expect(popup).to_be_hidden()
    expect(composer).to_have_value("Hello, this is alice from the help desk.")
    expect(window.locator(".counter")).to_contain_text("GSM 7-bit · 1 part")
    assert gateway.inbox(customer) == []  # inserted, not sent
    # The picker button does the same without typing.
    composer.fill("")
    window.locator(".canned-button").click()
    expect(popup.locator(".canned-search")).to_be_focused()
    popup.locator(".canned-search").fill("greeting")
    popup.locator(".canned-search").press("Enter")
    expect(composer).to_have_value("Hello, this is alice from the help desk.")
    composer.press("Enter")  # the agent's Send
    expect(window.locator(".msg-out .msg-text")).to_have_text(
        ["Hello, this is alice from the help desk."])
    inbox = gateway.wait_inbox(customer, 1)
    assert [m["text"] for m in inbox] == ["Hello, this is alice from the help desk."]
