"""The agents' desk in Chromium against the real daemon: notes, canned replies, wrap-up,
contacts, transfer, search, transcripts, capacity, the live floor and the admin screens."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, Consoles, Gateway, new_customer, screenshot
from tests.e2e.test_console import answer

expect.set_options(timeout=15_000)
WRAP_UP_CODES = ("resolved", "callback", "wrong number")
REPLY_OVERDUE_S = 3
DAEMON_CONFIG = f"""cases:
  wrap_up_codes: [{", ".join(repr(code) for code in WRAP_UP_CODES)}]
  reply_overdue_s: {REPLY_OVERDUE_S}
"""


def ask_to_close(window: Any) -> None:
    """Close: the customer's last text has no reply, so the console asks first; say yes."""
    window.locator(".close-case").click()
    window.locator(".confirm-close").click()


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
    screenshot(page, "desk-note")
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
    screenshot(page, "desk-canned")
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


def test_close_asks_for_a_wrap_up_code_and_keeps_it(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    page = consoles.login("alice")
    gateway.text(customer, "Wrong number, sorry")
    window = answer(page, customer)
    case_id = int((window.locator(".case-id").text_content() or "").lstrip("#"))
    ask_to_close(window)
    dialog = page.locator(".wrap-up-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".wrap-up-code option")).to_have_text(
        ["No code", *WRAP_UP_CODES])
    dialog.locator(".wrap-up-cancel").click()  # cancelling keeps the case open
    expect(dialog).to_have_count(0)
    expect(window).to_be_visible()
    ask_to_close(window)
    dialog.locator(".wrap-up-code").select_option("wrong number")
    dialog.locator(".wrap-up-summary").fill("Meant to text the pharmacy")
    screenshot(page, "desk-wrap-up")
    dialog.locator(".wrap-up-confirm").click()
    expect(window).to_have_count(0)
    case = gateway.api_session("alice")("GET", f"/api/cases/{case_id}")["case"]
    assert (case["status"], case["wrap_up"], case["summary"]) == (
        "closed", "wrong number", "Meant to text the pharmacy")


def test_a_named_contact_shows_on_the_next_request(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    page = consoles.login("bob")
    gateway.text(customer, "Hi, it's about my order")
    window = answer(page, customer)
    window.locator(".edit-contact").click()
    window.locator(".contact-name-input").fill("Grace Hopper")
    window.locator(".contact-tags-input").fill("vip, orders")
    window.locator(".contact-notes-input").fill("Ask for the order number first")
    window.locator(".save-contact").click()
    expect(window.locator(".contact-name")).to_contain_text("Grace Hopper")
    expect(window.locator(".contact-tags .tag")).to_have_text(["vip", "orders"])
    expect(page.locator(".tab", has_text="Grace Hopper")).to_have_count(1)
    ask_to_close(window)
    page.locator(".wrap-up-dialog .wrap-up-confirm").click()
    expect(window).to_have_count(0)
    gateway.text(customer, "One more question")
    card = page.locator(".request", has_text=f"SMS{customer}")
    expect(card.locator(".request-contact")).to_have_text("Grace Hopper")
    card.locator(".answer-new").click()
    window = page.locator(".case-window:not([hidden])")
    expect(window.locator(".contact-name")).to_contain_text("Grace Hopper")
    expect(window.locator(".contact-notes")).to_have_text("Ask for the order number first")


def test_transfer_to_a_second_agent_who_accepts(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    alice = consoles.login("alice")
    bob = consoles.login("bob")
    gateway.text(customer, "I need to change my billing address")
    bob.locator(".request", has_text=f"SMS{customer}").wait_for()
    window = answer(alice, customer)
    window.locator(".transfer-case").click()
    window.locator(".transfer-target").select_option("agent:bob")
    window.locator(".transfer-note").fill("Billing: Bob handles addresses")
    window.locator(".transfer-confirm").click()
    expect(window.locator(".transfer-state")).to_contain_text("Offered to bob")
    offer = bob.locator(".transfer-offer")
    expect(offer).to_contain_text("Billing: Bob handles addresses")
    bob.wait_for_function("() => window.smsConsole.alerts.ringing")  # rung like a request
    screenshot(bob, "desk-transfer")
    offer.locator(".accept-transfer").click()
    bob_window = bob.locator(".case-window:not([hidden])")
    expect(bob_window.locator(".msg-in .msg-text")).to_have_text(
        ["I need to change my billing address"])
    expect(bob_window.locator(".msg-note-item")).to_contain_text("Transfer to bob by alice")
    expect(bob_window.locator(".case-agent")).to_have_text("bob")
    expect(alice.locator(".case-window", has=alice.locator(
        f'.chat[aria-label="Conversation with {customer}"]'))).to_have_count(0)
    expect(offer).to_have_count(0)


def test_tabs_follow_the_longest_waiting_customer(gateway: Gateway, consoles: Consoles) -> None:
    first, second = new_customer(), new_customer()
    page = consoles.login("sam")
    gateway.text(first, "First in line")
    answer(page, first)
    gateway.text(second, "Second in line")
    answer(page, second)
    tabs = page.locator(".tab:not(.tab-supervisor) .tab-label")
    expect(tabs).to_have_text([re.compile(re.escape(first)), re.compile(re.escape(second))])
    first_tab = page.locator(".tab", has_text=first)
    expect(first_tab).to_have_class(re.compile("customer-waiting"))  # past reply_overdue_s
    first_tab.click()
    window = answer_window(page, first)
    window.locator("textarea.compose-text").fill("Hello, looking into it")
    window.locator("textarea.compose-text").press("Enter")
    # Answered: the first customer no longer waits; the second's tab comes first.
    expect(tabs).to_have_text([re.compile(re.escape(second)), re.compile(re.escape(first))])
    expect(first_tab).not_to_have_class(re.compile("customer-waiting"))


def test_search_and_open_an_old_case_then_start_a_chat(
    gateway: Gateway, consoles: Consoles
) -> None:
    customer = new_customer()
    page = consoles.login("alice")
    gateway.text(customer, "The lift in block C is stuck on floor 4")
    window = answer(page, customer)
    ask_to_close(window)
    page.locator(".wrap-up-dialog .wrap-up-code").select_option("resolved")
    page.locator(".wrap-up-dialog .wrap-up-confirm").click()
    expect(window).to_have_count(0)
    page.locator("#search-query").fill("block c")
    page.locator(".search-button").click()
    result = page.locator(".search-result", has_text=customer)
    expect(result.locator(".search-snippet")).to_contain_text("lift in block C is stuck")
    expect(result.locator(".search-meta")).to_contain_text("closed · resolved · alice")
    result.locator(".open-result").click()
    viewer = page.locator(".case-viewer")
    expect(viewer).to_contain_text("read-only")
    expect(viewer.locator(".msg-in .msg-text")).to_have_text(
        ["The lift in block C is stuck on floor 4"])
    expect(viewer.locator("textarea")).to_have_count(0)
    screenshot(page, "desk-search")
    viewer.locator(".start-from-result").click()
    window = page.locator(".case-window:not([hidden])", has=page.locator(
        f'.chat[aria-label="Conversation with {customer}"]'))
    expect(window.locator(".case-status")).to_have_text("open")
    expect(window.locator("textarea.compose-text")).to_be_focused()


def test_download_and_print_a_transcript(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    page = consoles.login("alice")
    gateway.text(customer, "Please send me a copy of this chat")
    window = answer(page, customer)
    window.locator(".note-input").fill("Customer asked for a transcript")
    window.locator(".add-note").click()
    expect(window.locator(".msg-note-item")).to_have_count(1)
    with page.expect_download() as pdf_download:
        window.locator(".transcript-pdf").click()
    pdf = pdf_download.value
    assert pdf.suggested_filename.endswith("-transcript.pdf")
    with open(pdf.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    with page.expect_download() as txt_download:
        window.locator(".transcript-txt").click()
    with open(txt_download.value.path(), encoding="utf-8") as handle:
        text = handle.read()
    assert "Please send me a copy of this chat" in text
    assert "Internal note by alice" in text
    page.evaluate("() => { window.print = () => { window.printed = true; }; }")
    window.locator(".transcript-print").click()
    page.wait_for_function("() => window.printed === true")
    expect(page.locator("#print-area .print-text")).to_have_text(
        ["Please send me a copy of this chat", "Customer asked for a transcript"])


def test_the_supervisors_live_floor(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    sam = consoles.login("sam")
    alice = consoles.login("alice")
    gateway.text(customer, "Floor test: my heating")
    window = answer(alice, customer)
    sam.locator("#supervisor-tab").click()
    floor = sam.locator(".floor")
    expect(floor).to_be_visible()
    expect(floor.locator("#floor-agents tr[data-agent='alice'] td").nth(1)).to_contain_text(
        "available")
    expect(floor.locator(".fig-answered dd")).not_to_have_text("0")
    window.locator("textarea.compose-text").fill("Looking at it now")
    window.locator("textarea.compose-text").press("Enter")
    floor.locator(".watch-case", has_text=customer).click()
    watch = sam.locator(".case-watch")
    expect(watch).to_contain_text("read-only, live")
    expect(watch.locator(".msg-out .msg-text")).to_have_text(["Looking at it now"])
    # Live: the customer's next text appears in the open view.
    gateway.text(customer, "Thanks!")
    expect(watch.locator(".msg-in .msg-text")).to_have_text(
        ["Floor test: my heating", "Thanks!"])
    expect(watch.locator("textarea")).to_have_count(0)
    # More than the view holds: it follows the newest text, as a chat does.
    for n in range(12):
        gateway.text(customer, f"and another thing, number {n}")
    expect(watch.locator(".msg-in")).to_have_count(14)
    expect(watch.locator(".msg").last).to_be_in_viewport()
    watch.locator(".close-watch").click()
    screenshot(sam, "desk-floor")


def add_admin(gateway: Gateway, name: str) -> None:
    """An admin account, made as an admin makes the first one: with `sms-gateway user add`."""
    created = subprocess.run(
        [sys.executable, "-m", "gateway", "user", "add", name, "--role", "admin",
         "--config", str(gateway.directory / "config.yaml")],
        input=f"{PASSWORD}\n", capture_output=True, text=True, timeout=60, check=False)
    assert created.returncode == 0, created.stderr


def test_an_admin_creates_a_user_from_the_admin_screen(
    gateway: Gateway, consoles: Consoles
) -> None:
    add_admin(gateway, "root")
    page = consoles.login("root")
    page.locator("#admin-button").click()
    dialog = page.locator(".admin-dialog")
    expect(dialog.locator(".admin-users tr[data-user='alice']")).to_be_visible()
    dialog.locator("#admin-new-username").fill("dora")
    dialog.locator("#admin-new-role").select_option("supervisor")
    dialog.locator(".admin-create-user").click()
    expect(dialog.locator(".admin-message")).to_contain_text("password (shown once)")
    row = dialog.locator(".admin-users tr[data-user='dora']")
    expect(row.locator(".admin-role")).to_have_value("supervisor")
    screenshot(page, "desk-admin")
    password = (dialog.locator(".admin-message").text_content() or "").rsplit(": ", 1)[1]
    dialog.locator(".admin-tab-audit").click()
    dialog.locator("#admin-audit-user").fill("root")
    dialog.locator("#admin-audit-action").fill("user.create")
    dialog.locator(".admin-audit-filter button").click()
    expect(dialog.locator(".admin-audit tbody tr")).to_have_count(1)
    expect(dialog.locator(".admin-audit tbody")).to_contain_text("supervisor")
    dialog.locator(".admin-tab-lines").click()
    expect(dialog.locator(".admin-lines tbody")).to_contain_text("demo")
    dialog.locator(".admin-close").click()
    # The new user can log in with the password shown once.
    response = page.request.post(f"{gateway.url}/api/login", headers={"Origin": gateway.url},
                                 data={"username": "dora", "password": password})
    assert response.ok, response.text()


def test_an_admin_erases_a_number_from_the_admin_screen(
    gateway: Gateway, consoles: Consoles
) -> None:
    customer = new_customer()
    gateway.text(customer, "Please forget me")
    alice = consoles.login("alice")
    window = answer(alice, customer)
    case_id = int((window.locator(".case-id").text_content() or "").lstrip("#"))
    as_alice = gateway.api_session("alice")
    as_alice("POST", f"/api/cases/{case_id}/close", {"wrap_up": "resolved"})
    add_admin(gateway, "dpo")
    page = consoles.login("dpo")
    asked: list[str] = []

    def confirm(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    page.locator("#admin-button").click()
    admin = page.locator(".admin-dialog")
    admin.locator(".admin-tab-erase").click()
    admin.locator("#admin-erase-phone").fill(customer)
    admin.locator(".admin-erase-button").click()
    expect(admin.locator(".admin-message")).to_have_text(
        f"Erased {customer}: 1 messages, 0 notes, 1 cases.")
    assert asked == [f"Erase every message, note and case of {customer}? This cannot be undone."]
    screenshot(page, "desk-admin-erase")
    response = alice.request.get(f"{gateway.url}/api/cases/{case_id}")
    assert response.status == 404
    admin.locator("#admin-erase-phone").fill(customer)  # a second time: nothing is held
    admin.locator(".admin-erase-button").click()
    expect(admin.locator(".admin-message")).to_contain_text("Failed:")
