"""The agent console in Chromium against the real daemon and a simulated customer handset."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote

from playwright.sync_api import expect

from tests.e2e.conftest import (
    ADDRESS,
    ADDRESSED_CUSTOMER,
    Consoles,
    Gateway,
    new_customer,
    screenshot,
    wait_connected,
)

expect.set_options(timeout=15_000)


def request_card(page: Any, customer: str) -> Any:
    return page.locator(".request", has_text=f"SMS{customer}")


def case_window(page: Any, customer: str) -> Any:
    """The visible case window for the customer's number."""
    return page.locator(".case-window:not([hidden])", has=page.locator(
        f'.chat[aria-label="Conversation with {customer}"]'))


def answer(page: Any, customer: str) -> Any:
    request_card(page, customer).get_by_role("button", name=re.compile("^Answer")).click()
    window = case_window(page, customer)
    expect(window).to_be_visible()
    return window


def close_case(window: Any) -> None:
    window.locator(".close-case").click()
    confirm = window.locator(".confirm-close")
    if confirm.is_visible():  # the customer's last text has no reply: the console asks
        confirm.click()
    expect(window).to_have_count(0)


def test_full_chat_flow_through_the_console(gateway: Gateway, consoles: Consoles) -> None:
    customer = ADDRESSED_CUSTOMER
    login = consoles.page("/")
    expect(login.locator("#login-form")).to_be_visible()
    screenshot(login, "login")

    page = consoles.login("alice", form=True)
    gateway.text(customer, "Hello, the heating in flat 3 is broken.")
    card = request_card(page, customer)
    expect(card.locator(".request-name")).to_have_text("SMS Chat Request")
    expect(card.locator(".request-call-id")).to_have_text(f"SMS{customer}")
    expect(card.locator(".request-line")).to_have_text("demo (+15550100)")
    expect(card.locator(".request-preview")).to_have_text("Hello, the heating in flat 3 is broken.")
    timer = card.locator("[data-wait-from]")
    first = timer.text_content()
    expect(timer).not_to_have_text(first or "")  # the waiting timer ticks
    expect(page).to_have_title(re.compile(r"^\(\d+\) waiting"))
    page.wait_for_function("() => window.smsConsole.alerts.playing")  # it rings
    screenshot(page, "panel-ringing")

    window = answer(page, customer)
    expect(card).to_have_count(0)
    page.wait_for_function("() => !window.smsConsole.alerts.playing")  # answered: silence
    expect(window.locator(".phone-input")).to_have_value(customer)
    expect(window.locator(".case-address")).to_contain_text(ADDRESS)
    expect(window.locator(".case-status")).to_have_text("open")
    case_id = (window.locator(".case-id").text_content() or "").lstrip("#")
    inbound = window.locator(".msg-in").last
    expect(inbound.locator(".msg-text")).to_have_text("Hello, the heating in flat 3 is broken.")
    expect(inbound.locator(".msg-age")).to_have_text(re.compile(r"^(now|\d+ min ago)$"))
    expect(inbound.locator("time.msg-clock")).to_have_text(re.compile(r"\d\d:\d\d"))
    expect(inbound.locator(".msg-offset")).to_have_text(re.compile(r"^\+\d+ (s|min)$"))

    reply = (
        "Thank you for letting us know. An engineer will visit you tomorrow between 8 and 12 "
        "o'clock to repair the heating. Please make sure someone is at home to let them in "
        "and keep the boiler cupboard clear. If the flat gets very cold tonight, collect "
        "a free electric heater from the caretaker's office on the ground floor until 10 pm. "
        "Reply to this message if anything changes. Regards, your housing team."
    )
    assert len(reply) == 400
    composer = window.locator("textarea")
    composer.fill(reply)
    expect(window.locator(".counter")).to_contain_text("GSM 7-bit · 3 parts")
    composer.press("Enter")
    expect(composer).to_have_value("")
    sent = window.locator(".msg-out", has_text=reply[:60])
    expect(sent.locator('.part[data-status="delivered"]')).to_have_count(3)
    expect(sent.locator(".parts")).to_contain_text("Part 3 of 3: delivered")
    inbox = gateway.wait_inbox(customer, 1)
    assert [(m["text"], m["parts"]) for m in inbox] == [(reply, 3)]
    screenshot(page, "case-window")

    phone = consoles.page(f"/sim/?number={quote(customer)}")
    expect(phone.locator(".bubble.in")).to_contain_text(reply[:50])

    close_case(window)
    phone.locator("#text").fill("Sorry, one more thing: the door code is 1234.")
    phone.locator("#text").press("Enter")
    expect(phone.locator(".bubble.out")).to_contain_text("door code")
    screenshot(phone, "customer-phone")

    card = request_card(page, customer)
    resume = card.locator(".answer-continue")
    expect(resume).to_contain_text(f"Continue case #{case_id} (closed ")
    expect(resume).to_contain_text("by alice)")
    expect(card.locator(".answer-new")).to_have_text("New case")
    resume.click()
    window = case_window(page, customer)
    expect(window.locator(".case-id")).to_have_text(f"#{case_id}")
    expect(window.locator(".case-status")).to_have_text("open")
    expect(window.locator(".msg-in .msg-text")).to_have_text(
        ["Hello, the heating in flat 3 is broken.", "Sorry, one more thing: the door code is 1234."]
    )
    expect(window.locator(".msg-out .msg-text")).to_have_text([reply])
    close_case(window)


def test_only_one_of_two_agents_gets_the_request(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    alice = consoles.login("alice")
    bob = consoles.login("bob")
    # Bob's console is in a background tab: the request must also reach him as a notification.
    bob.context.grant_permissions(["notifications"], origin=gateway.url)
    bob.evaluate("""() => {
        Object.defineProperty(document, "hidden", { get: () => true });
        const Real = window.Notification;
        window.shown = [];
        window.Notification = class extends Real {
            constructor(title, options) {
                super(title, options);
                window.shown.push([title, options.body]);
            }
        };
    }""")
    gateway.text(customer, "Is anyone there?")
    expect(request_card(alice, customer)).to_be_visible()
    expect(request_card(bob, customer)).to_be_visible()
    shown = bob.evaluate("() => window.shown")
    assert [f"SMS Chat Request: SMS{customer}", "Line demo. Is anyone there?"] in shown
    stale = bob.evaluate(
        "(phone) => window.smsConsole.requests.find((r) => r.phone === phone)", customer
    )

    window = answer(alice, customer)
    expect(request_card(bob, customer)).to_have_count(0)  # gone at once for the other agent
    # Bob answers the same request a moment too late (as if he clicked at the same time).
    bob.evaluate("(request) => window.smsConsole.answer(request, 'new')", stale)
    expect(bob.locator(".banner", has_text="alice answered this customer first")).to_be_visible()
    expect(bob.locator(".tab", has_text=customer)).to_have_count(0)
    close_case(window)


def test_message_html_is_shown_as_text_and_runs_nothing(
    gateway: Gateway, consoles: Consoles
) -> None:
    customer = new_customer()
    page = consoles.login("alice")
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    evil = ('<img src=x onerror=alert(1)><script>alert(2)</script> <b>bold</b> '
            'javascript:alert(3) see https://example.com/a?b=1 ok')
    gateway.text(customer, evil)
    expect(request_card(page, customer).locator(".request-preview")).to_have_text(evil)
    window = answer(page, customer)
    text = window.locator(".msg-in .msg-text").last
    expect(text).to_have_text(evil)
    assert page.locator("#app-view img, #app-view script, #app-view b").count() == 0
    links = text.locator("a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.com/a?b=1")
    expect(links).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    expect(links).to_have_attribute("target", "_blank")
    page.wait_for_timeout(300)
    assert dialogs == []
    close_case(window)


def test_send_survives_a_network_drop(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    port = gateway.extra["proxy_port"]  # an origin the daemon's config trusts
    target = gateway.url.rsplit(":", 1)[1]
    proxy = subprocess.Popen([sys.executable, "-m", "tests.e2e.proxy", str(port), target],
                             stdout=subprocess.PIPE)
    assert proxy.stdout is not None
    try:
        assert proxy.stdout.readline().strip() == b"LISTENING"
        page = consoles.login("alice", base=f"http://127.0.0.1:{port}")
        gateway.text(customer, "Can you call me back?")
        window = answer(page, customer)

        proxy.send_signal(signal.SIGUSR1)  # the network drops
        assert proxy.stdout.readline().strip() == b"CUT"
        expect(page.locator('[data-banner="connection"]')).to_be_visible()
        window.locator("textarea").fill("Written while the network was down.")
        window.locator("textarea").press("Enter")
        pending = window.locator(".msg-pending")
        expect(pending).to_contain_text("Pending")
        gateway.text(customer, "Hello? Are you still there?")
        case_id = int((window.locator(".case-id").text_content() or "#0").lstrip("#"))
        api = gateway.api_session("alice")
        for _ in range(100):  # the daemon has it; the page cannot know yet
            history = api("GET", f"/api/cases/{case_id}/messages")["messages"]
            if any(m["text"] == "Hello? Are you still there?" for m in history):
                break
            time.sleep(0.1)
        assert gateway.inbox(customer) == []

        proxy.send_signal(signal.SIGUSR2)  # and comes back
        assert proxy.stdout.readline().strip() == b"LISTENING"
        expect(page.locator('[data-banner="connection"]')).to_have_count(0)
        missed = page.locator(".banner", has_text="While disconnected: 1 new message")
        expect(missed).to_be_visible()
        expect(window.locator(".msg-in .msg-text").last).to_have_text("Hello? Are you still there?")
        expect(pending).to_have_count(0)
        sent = window.locator(".msg-out", has_text="Written while the network was down.")
        expect(sent.locator('.part[data-status="delivered"]')).to_have_count(1)

        # The server takes the Send but its answer is lost: the retry must not send it twice.
        posts: list[str] = []

        def lose_first_answer(route: Any) -> None:
            if route.request.method != "POST":
                route.continue_()
                return
            posts.append(route.request.post_data or "")
            if len(posts) == 1:
                route.fetch()
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/api/cases/*/messages", lose_first_answer)
        window.locator("textarea").fill("Sent once, confirmed on the second try.")
        window.locator("textarea").press("Enter")
        sent = window.locator(".msg-out", has_text="Sent once, confirmed on the second try.")
        expect(sent.locator('.part[data-status="delivered"]')).to_have_count(1)
        page.wait_for_function("() => window.smsConsole.outbox.items.length === 0")
        page.unroute("**/api/cases/*/messages")
        assert len(posts) >= 2
        assert len(set(posts)) == 1  # the same body: the same client_id
        page.wait_for_timeout(1000)
        texts = [m["text"] for m in gateway.inbox(customer)]
        assert texts == ["Written while the network was down.",
                         "Sent once, confirmed on the second try."]
        close_case(window)
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        proxy.stdout.close()


def focus_until(page: Any, key: str, predicate: str, limit: int = 40) -> None:
    """Press `key` until the focused element matches the JS predicate(el)."""
    for _ in range(limit):
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"focus never reached: {predicate}")


def test_keyboard_only_flow(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    page = consoles.page("/")
    expect(page.locator("#login-username")).to_be_focused()
    page.keyboard.type("bob")
    page.keyboard.press("Tab")
    page.keyboard.type("e2e-password-1")
    page.keyboard.press("Enter")
    wait_connected(page)

    gateway.text(customer, "Typing only, please.")
    expect(request_card(page, customer)).to_be_visible()
    page.keyboard.press("Alt+r")  # to the waiting requests
    focus_until(page, "Tab", f"el.closest('.request')?.textContent.includes('SMS{customer}')"
                " && el.matches('button.answer')")
    page.keyboard.press("Enter")
    window = case_window(page, customer)
    expect(window.locator("textarea")).to_be_focused()
    page.keyboard.type("Sure. Replying with the keyboard")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("on two lines.")
    page.keyboard.press("Enter")
    sent = window.locator(".msg-out", has_text="on two lines.")
    expect(sent.locator('.part[data-status="delivered"]')).to_have_count(1)
    assert gateway.wait_inbox(customer, 1)[0]["text"] == (
        "Sure. Replying with the keyboard\non two lines."
    )

    gateway.text(customer, "Thanks!")
    expect(page.locator("#announcer")).to_contain_text(f"New message from {customer}")
    focus_until(page, "Shift+Tab", "el.matches('.chat')")  # the conversation can be read
    expect(window.locator(".msg-in .msg-text").last).to_have_text("Thanks!")
    focus_until(page, "Shift+Tab", "el.matches('.close-case')")
    page.keyboard.press("Enter")
    expect(window.locator(".confirm-close")).to_be_focused()  # "Thanks!" has no reply yet
    page.keyboard.press("Enter")
    expect(window).to_have_count(0)


def test_supervisor_sees_everything_and_reassigns(gateway: Gateway, consoles: Consoles) -> None:
    chatting, waiting = new_customer(), new_customer()
    alice = consoles.login("alice")
    bob = consoles.login("bob")
    gateway.text(chatting, "I need help with my bill.")
    answer(alice, chatting)
    gateway.text(waiting, "Hello? Still waiting.")
    expect(request_card(alice, waiting)).to_be_visible()

    sam = consoles.login("sam")
    expect(sam.locator("#supervisor-tab")).to_have_attribute("aria-selected", "true")
    expect(sam.locator("#supervisor-requests tr", has_text=f"SMS{waiting}")).to_be_visible()
    row = sam.locator("#supervisor-cases tr", has_text=chatting)
    expect(row).to_contain_text("alice")
    alice_row = sam.locator('#supervisor-agents tr[data-agent="alice"]')
    expect(alice_row).to_contain_text("online")
    expect(alice_row.locator("td").last).to_have_text("now")  # not the time she logged in
    screenshot(sam, "supervisor")

    row.locator("select").select_option("bob")
    row.locator("button.reassign").click()
    expect(bob.locator(".tab", has_text=chatting)).to_be_visible()
    expect(alice.locator(".tab", has_text=chatting)).to_have_count(0)
    expect(row).to_contain_text("bob")

    bob.locator(".tab", has_text=chatting).click()
    close_case(case_window(bob, chatting))
    close_case(answer(bob, waiting))


def test_failed_part_offers_resend(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    page = consoles.login("alice")
    gateway.text(customer, "Please confirm my appointment.")
    window = answer(page, customer)
    gateway.fault("send_failure", cms=500, times=1)
    window.locator("textarea").fill("Your appointment is confirmed.")
    window.locator("textarea").press("Enter")
    failed = window.locator(".msg-out", has_text="Your appointment is confirmed.").first
    expect(failed.locator('.part[data-status="failed"]')).to_contain_text("failed")
    expect(failed.locator(".part-icon")).to_have_text("✖")
    failed.get_by_role("button", name="Resend").click()
    resent = window.locator(".msg-out", has_text="Your appointment is confirmed.").nth(1)
    expect(resent.locator('.part[data-status="delivered"]')).to_have_count(1)
    assert [m["text"] for m in gateway.wait_inbox(customer, 1)] == [
        "Your appointment is confirmed."
    ]
    close_case(window)


def test_line_that_cannot_send_raises_a_banner(gateway: Gateway, consoles: Consoles) -> None:
    page = consoles.login("alice")
    expect(page.locator(".line", has_text="demo")).to_contain_text("ready")
    gateway.fault("deregister")
    try:
        expect(page.locator('[data-banner="lines"]')).to_contain_text(
            "Line demo (+15550100) cannot send"
        )
        expect(page.locator(".line.line-down")).to_contain_text("cannot send")
    finally:
        gateway.fault("register")
    expect(page.locator('[data-banner="lines"]')).to_have_count(0)
    gateway.wait_line_ready()


def test_expired_session_returns_to_login_with_a_message(
    gateway: Gateway, consoles: Consoles
) -> None:
    page = consoles.login("bob")
    # End the session on the server (as expiry does), behind the console's back.
    page.evaluate("""fetch('/api/logout', {method: 'POST',
        headers: {'X-CSRF-Token': window.smsConsole.api.csrfToken}})""")
    gateway.text(new_customer(), "This makes the console ask the server.")
    expect(page.locator("#login-message")).to_have_text(
        "Your session has expired. Please sign in again."
    )
    expect(page.locator("#login-username")).to_be_focused()
    expect(page.locator("#app-view")).to_be_hidden()


def test_composer_counter_agrees_with_the_server_codec(
    gateway: Gateway, consoles: Consoles
) -> None:
    from tests.e2e.counter_cases import python_counts, tricky_texts

    texts = tricky_texts()
    page = consoles.page("/")
    counted = page.evaluate(
        """async (texts) => {
            const counter = await import('/console/js/counter.js');
            return texts.map((t) => {
                const c = counter.countSegments(t, 10);
                return [c.encoding, c.parts, c.units_used, c.units_left, c.characters,
                        c.ucs2_characters, c.too_long];
            });
        }""",
        texts,
    )
    expected = python_counts(texts, 10)
    mismatches = [(t[:40], js, py) for t, js, py in zip(texts, counted, expected, strict=True)
                  if js != py]
    assert not mismatches, mismatches[:5]


def test_dialpad_tabs_unread_badges_and_composer_help(gateway: Gateway, consoles: Consoles) -> None:
    first, second = new_customer(), new_customer()
    page = consoles.login("alice")
    dialpad = page.locator("#dialpad")
    page.locator("#dialpad-number").fill("12")
    dialpad.get_by_role("button", name="Start SMS chat").click()
    expect(page.locator("#dialpad-error")).to_contain_text("is not valid: it is too short")
    page.locator("#dialpad-number").fill(first)
    dialpad.get_by_role("button", name="Start SMS chat").click()
    one = case_window(page, first)
    composer = one.locator("textarea")
    expect(composer).to_be_focused()

    composer.fill("It’s “ready” — see you…")
    expect(one.locator(".counter")).to_contain_text("Unicode (UCS-2) · 1 part")
    expect(one.locator(".ucs2-note mark")).to_have_count(5)
    one.locator(".replace-lookalikes").click()
    expect(composer).to_have_value('It\'s "ready" - see you...')
    expect(one.locator(".counter")).to_contain_text("GSM 7-bit · 1 part")
    composer.fill("x" * 1531)  # 11 parts; the limit is 10
    expect(one.locator(".limit-note")).to_contain_text("Too long: 11 parts; the limit is 10")
    expect(one.locator("button.send")).to_be_disabled()
    composer.fill("")

    one.locator(".phone-input").fill(second)  # any phone field starts a chat
    one.locator(".phone-button").click()
    two = case_window(page, second)
    expect(two.locator("textarea")).to_be_focused()
    gateway.text(first, "Got your number from the website.")
    tab = page.locator(".tab", has_text=first)
    expect(tab.locator(".badge")).to_have_text("1 unread")
    tab.click()
    expect(tab.locator(".badge")).to_be_hidden()
    expect(one.locator(".msg-in .msg-text")).to_have_text("Got your number from the website.")
    close_case(one)
    close_case(two)


def test_opted_out_number_needs_confirmation_to_send(gateway: Gateway, consoles: Consoles) -> None:
    customer = new_customer()
    page = consoles.login("bob")
    gateway.text(customer, "STOP")
    expect(request_card(page, customer)).to_contain_text("opted out")
    window = answer(page, customer)
    expect(window.locator(".optout-warning")).to_be_visible()
    window.locator("textarea").fill("We have removed you from our list.")
    window.locator("textarea").press("Enter")
    pending = window.locator(".msg-pending")
    expect(pending).to_contain_text("opted out")
    page.wait_for_timeout(500)
    assert gateway.inbox(customer) == []  # nothing goes out without the agent's confirmation
    pending.get_by_role("button", name="Send anyway").click()
    sent = window.locator(".msg-out", has_text="We have removed you from our list.")
    expect(sent.locator('.part[data-status="delivered"]')).to_have_count(1)
    assert [m["text"] for m in gateway.wait_inbox(customer, 1)] == [
        "We have removed you from our list."
    ]
    close_case(window)
