"""What the field brings on day one, in Chromium against the real daemon: senders that are not
full international numbers, an agent who reloads or logs out, and what the agent reads."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Consoles, Gateway, new_customer
from tests.e2e.test_console import answer, case_window, close_case, request_card

expect.set_options(timeout=15_000)


def tab_labels(page: Any) -> list[str]:
    labels = page.locator(".tab:not(.tab-supervisor) .tab-label").all_text_contents()
    return [label.strip() for label in labels]


def test_reload_keeps_the_ring_and_the_tab_order(gateway: Gateway, consoles: Consoles) -> None:
    first, second, waiting = new_customer(), new_customer(), new_customer()
    page = consoles.login("alice", form=True)  # a click on Sign in turns the ring on
    for customer in (first, second):
        gateway.text(customer, "Hello")
        answer(page, customer)
    before = tab_labels(page)
    assert [label.split(" ")[1] for label in before] == [first, second]
    gateway.text(waiting, "Is anyone there?")
    page.wait_for_function("() => window.smsConsole.alerts.playing")
    draft = "Half-typed answer, not sent yet"
    case_window(page, second).locator("textarea.compose-text").fill(draft)

    page.reload()
    expect(request_card(page, waiting)).to_be_visible()
    expect(page.locator(".tab:not(.tab-supervisor)")).to_have_count(2)
    assert tab_labels(page) == before  # Alt+1 is the same case as before
    page.keyboard.press("Alt+2")
    # What the agent was typing is still there, unsent.
    expect(case_window(page, second).locator("textarea.compose-text")).to_have_value(draft)
    assert gateway.inbox(second) == []
    page.keyboard.press("Alt+1")
    expect(case_window(page, first)).to_be_visible()
    # The ring comes back by itself, or a banner says one click is needed, and it works.
    page.wait_for_function("""() => window.smsConsole.alerts.playing
        || document.querySelector('[data-banner="sound"]') !== null""")
    if not page.evaluate("() => window.smsConsole.alerts.playing"):
        page.locator('[data-banner="sound"] button').click()
        page.wait_for_function("() => window.smsConsole.alerts.playing")
    close_case(answer(page, waiting))
    for customer in (first, second):
        page.locator(".tab", has_text=customer).click()
        close_case(case_window(page, customer))


def test_senders_that_are_not_international_numbers(
    gateway: Gateway, consoles: Consoles
) -> None:
    page = consoles.login("bob")
    gateway.text("ACME", "Your parcel is on its way")
    card = page.locator(".request", has_text="ACME")
    expect(card.locator(".request-sender")).to_have_text("sender name ACME")
    card.get_by_role("button", name=re.compile("^Answer")).click()
    window = case_window(page, "ACME")
    expect(window.locator(".no-reply")).to_have_text(
        "⚠ ACME is a sender name, not a phone number: it cannot receive replies."
    )
    expect(window.locator("textarea")).to_be_disabled()
    expect(window.locator(".case-sender")).to_have_text("sender name ACME")
    close_case(window)

    gateway.text("54321", "Reply YES to confirm")
    card = page.locator(".request", has_text="SMS54321")
    expect(card.locator(".request-sender")).to_have_text("short code 54321")
    card.get_by_role("button", name=re.compile("^Answer")).click()
    window = case_window(page, "54321")
    window.locator("textarea").fill("YES")
    window.locator("textarea").press("Enter")
    sent = window.locator(".msg-out", has_text="YES")
    expect(sent.locator('.part[data-status="delivered"]')).to_have_count(1)
    expect(sent.locator(".msg-who")).to_contain_text("bob")
    expect(sent.locator(".msg-offset")).to_have_text(re.compile(r"^\+\d+ (s|min)$"))
    assert [m["text"] for m in gateway.wait_inbox("54321", 1)] == ["YES"]
    close_case(window)


def test_a_send_that_can_never_go_fails_with_a_reason_and_can_be_discarded(
    gateway: Gateway, consoles: Consoles
) -> None:
    customer = new_customer()
    page = consoles.login("alice")
    gateway.text(customer, "Call me back")
    window = answer(page, customer)
    gateway.network_fault("unassigned", number=customer)
    window.locator("textarea").fill("We will call you at 3 pm.")
    window.locator("textarea").press("Enter")
    failed = window.locator(".msg-out", has_text="We will call you at 3 pm.")
    expect(failed.locator('.part[data-status="failed"]')).to_contain_text(
        "the network says this number is not in use"
    )
    expect(failed.get_by_role("button", name="Resend")).to_be_visible()
    failed.get_by_role("button", name="Discard").click()
    expect(failed.locator(".part-discarded")).to_have_text("Not sent: discarded by the agent")
    expect(failed.get_by_role("button", name="Resend")).to_have_count(0)
    page.reload()
    window = case_window(page, customer)
    expect(window.locator(".msg-out", has_text="We will call you at 3 pm.")).to_be_visible()
    gateway.network_fault("unassigned", number=customer, enabled=False)
    close_case(window)


def test_closing_without_a_reply_asks_first(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    page = consoles.login("alice")
    gateway.text(customer, "Are you open on Sunday?")
    window = answer(page, customer)
    window.locator(".close-case").click()
    dialog = window.locator(".close-confirm")
    expect(dialog).to_contain_text("The customer's last text has no reply yet")
    dialog.get_by_role("button", name="Keep open").click()
    expect(dialog).to_be_hidden()
    window.locator("textarea").fill("Yes, 10 to 4.")
    window.locator("textarea").press("Enter")
    sent = window.locator(".msg-out:not(.msg-pending)", has_text="Yes, 10 to 4.")
    expect(sent).to_be_visible()
    window.locator(".close-case").click()
    expect(window).to_have_count(0)


def test_logout_asks_what_to_do_with_each_open_case(gateway: Gateway, consoles: Consoles) -> None:
    kept, handed = new_customer(), new_customer()
    alice = consoles.login("alice")
    bob = consoles.login("bob")
    for customer in (kept, handed):
        gateway.text(customer, "Help please")
        answer(alice, customer)
    alice.locator("#logout-button").click()
    dialog = alice.locator(".leave-form")
    expect(dialog.locator(".leave-case")).to_have_count(2)
    alice.keyboard.press("Escape")  # as Cancel: still logged in, nothing handed back
    expect(dialog).to_have_count(0)
    expect(alice.locator("#logout-button")).to_be_visible()
    alice.locator("#logout-button").click()
    expect(dialog.locator(".leave-case")).to_have_count(2)
    dialog.locator(".leave-case", has_text=handed).get_by_label(
        "Hand it back to the queue"
    ).check()
    dialog.get_by_role("button", name="Log out").click()
    expect(alice.locator("#login-form")).to_be_visible()

    card = request_card(bob, handed)
    expect(card.get_by_role("button", name=re.compile("continues case"))).to_be_visible()
    card.get_by_role("button", name=re.compile("continues case")).click()
    window = case_window(bob, handed)
    expect(window.locator(".case-agent")).to_have_text("bob")
    expect(request_card(bob, kept)).to_have_count(0)
    close_case(window)
    alice = consoles.login("alice")
    expect(alice.locator(".tab", has_text=kept)).to_be_visible()
    alice.locator(".tab", has_text=kept).click()
    close_case(case_window(alice, kept))


def test_reassign_needs_a_chosen_agent(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    alice = consoles.login("alice")
    gateway.text(customer, "Billing question")
    answer(alice, customer)
    sam = consoles.login("sam")
    row = sam.locator("#supervisor-cases tr", has_text=customer)
    expect(row.locator("select")).to_have_value("")
    row.locator("button.reassign").click()
    expect(sam.locator("#supervisor")).to_contain_text("Choose the agent to give case")
    expect(row).to_contain_text("alice")
    close_case(case_window(alice, customer))


def test_many_requests_and_tabs_keep_every_control_on_screen(
    gateway: Gateway, consoles: Consoles
) -> None:
    waiting = [new_customer() for _ in range(12)]
    chats = [new_customer() for _ in range(10)]
    page = consoles.login("alice")
    api = gateway.api_session("alice")
    for customer in waiting:
        gateway.text(customer, "Waiting in line")
    for customer in chats:
        api("POST", "/api/cases", {"phone": customer})
    expect(page.locator(".request")).to_have_count(12)
    expect(page.locator(".tab:not(.tab-supervisor)")).to_have_count(10)
    start = page.get_by_role("button", name="Start SMS chat")
    expect(start).to_be_in_viewport()
    expect(page.locator("#dialpad-number")).to_be_in_viewport()
    last = page.locator(".tab").last
    last.click()  # reachable: the tab strip scrolls
    expect(last).to_be_in_viewport()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    for customer in waiting:
        close_case(answer(page, customer))
    for customer in chats:
        page.locator(".tab", has_text=customer).click()
        close_case(case_window(page, customer))


def test_a_chat_the_agent_starts_shows_its_line_and_its_address_search_ends(
    gateway: Gateway, consoles: Consoles
) -> None:
    customer = new_customer()
    page = consoles.login("bob")
    page.locator("#dialpad-number").fill(customer.removeprefix("+1"))  # the local format
    page.get_by_role("button", name="Start SMS chat").click()
    window = case_window(page, customer)
    expect(window.locator(".case-facts")).to_contain_text("demo (+15550100)")
    expect(window.locator(".case-address")).to_have_text("Address: No address found")
    close_case(window)
