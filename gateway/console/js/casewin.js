// One case window (a tab): the phone field with its Phone button, the address search result,
// case facts, the chat view and the composer.

import { CannedPicker } from "./canned.js";
import { Composer } from "./composer.js";
import { ContactCard } from "./contact.js";
import {
  groupByCase, groupHeading, messageElement, partText, pendingElement,
} from "./chat.js";
import { h, replaceChildren } from "./dom.js";
import { NoteForm, loadNotes, noteElement, noteItem } from "./notes.js";
import { senderLabel } from "./panel.js";
import { loadDraft, saveDraft } from "./prefs.js";
import { transcriptControls } from "./transcript.js";
import { TransferControl } from "./transfer.js";
import { applyWaiting } from "./waiting.js";
import { askWrapUp } from "./wrapup.js";
import { exactTime, parseTime } from "./time.js";

const NEAR_BOTTOM_PX = 80;

function addressText(address) {
  const status = address?.status ?? null;
  if (status === "found") return { text: address.address, kind: "found" };
  if (status === "pending") return { text: "Searching…", kind: "pending" };
  if (status === "error") return { text: `Address search failed: ${address.error || address.address || "unknown error"}`, kind: "error" };
  if (status === "not_found") return { text: "No address found", kind: "none" };
  return { text: "No address found", kind: "none" };
}

export class CaseWindow {
  constructor(app, caseData) {
    this.app = app;
    this.id = caseData.id;
    this.case = caseData;
    this.messages = new Map();
    this.notes = new Map();
    this.hasMore = false;
    this.nextBefore = null;
    this.unread = 0;
    this.renderedKey = null;
    const base = `case-${this.id}`;
    this.badge = h("span", { class: "badge", hidden: true });
    this.tabLabel = h("span", { class: "tab-label" });
    this.tab = h("button", {
      type: "button", role: "tab", id: `${base}-tab`, class: "tab", "aria-controls": base,
      "aria-selected": "false", tabindex: "-1",
      onclick: () => app.activate(this.id),
    }, this.tabLabel, this.badge);
    this.phoneInput = h("input", {
      id: `${base}-phone`, type: "tel", class: "phone-input", value: caseData.phone,
      autocomplete: "off",
      onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); this._phone(); } },
    });
    this.phoneError = h("p", { class: "field-error", role: "alert" });
    this.facts = h("dl", { class: "case-facts" });
    this.address = h("p", { class: "case-address", "aria-live": "polite" });
    this.optOut = h("p", { class: "warning optout-warning", hidden: true },
      "⚠ This number has opted out (texted STOP or a similar word). Send only if they asked you to.");
    this.closeButton = h("button", {
      type: "button", class: "close-case", onclick: () => this._close(),
    }, "Close case");
    this.closeConfirm = h("div", { class: "close-confirm warning", role: "alertdialog", hidden: true,
      "aria-label": "Close without a reply?" },
    h("p", {}, "The customer's last text has no reply yet. Close the case anyway?"),
    h("button", { type: "button", class: "danger confirm-close", onclick: () => this._close(true) },
      "Close anyway"),
    h("button", { type: "button", class: "keep-open", onclick: () => this._keepOpen() }, "Keep open"));
    this.noReply = h("p", { class: "warning no-reply", hidden: true });
    this.loadEarlier = h("button", {
      type: "button", class: "load-earlier link-button", hidden: true,
      onclick: () => this.loadOlder(),
    }, "Load earlier messages");
    this.chatList = h("div", { class: "chat-groups" });
    this.chat = h("div", {
      class: "chat", role: "log", tabindex: "0", "aria-label": `Conversation with ${caseData.phone}`,
    }, this.loadEarlier, this.chatList);
    this.composer = new Composer({
      id: `${base}-compose`, label: `Reply to ${caseData.phone}`, maxParts: app.maxParts,
      onSend: (text) => this.app.outbox.add(this.id, text),
      draft: {
        load: () => loadDraft(app.user?.username, this.id),
        save: (text) => saveDraft(app.user?.username, this.id, text),
      },
    });
    this.contactCard = new ContactCard({ app, win: this });
    this.transfer = new TransferControl({ app, win: this });
    this.transferState = h("p", { class: "transfer-state", role: "status" });
    this.canned = new CannedPicker({
      app, composer: this.composer,
      context: () => ({ agent: app.user?.username, phone: this.case.phone, contact: this.case.contact_name }),
    });
    this.noteForm = new NoteForm({
      api: app.api, caseId: this.id,
      onAdded: (note) => { this.mergeNotes([note]); this.render(); app.announce("Note added."); },
    });
    this.panel = h("section", {
      id: base, role: "tabpanel", class: "case-window", "aria-labelledby": `${base}-tab`, hidden: true,
    },
    h("header", { class: "case-head" },
      h("div", { class: "phone-field" },
        h("label", { for: `${base}-phone` }, "Phone number"),
        h("div", { class: "row" }, this.phoneInput,
          h("button", {
            type: "button", class: "phone-button", title: "Start an SMS chat with this number",
            onclick: () => this._phone(),
          }, "Start chat")),
        this.phoneError),
      h("div", { class: "case-summary" }, this.facts, this.address, this.contactCard.element,
        transcriptControls(app, this)),
      h("div", { class: "case-actions" }, this.transfer.button, this.closeButton)),
    this.transfer.element,
    this.transferState,
    this.closeConfirm,
    this.noReply,
    this.optOut,
    this.chat,
    this.composer.form,
    this.noteForm.form);
    this.setCase(caseData);
    this.refreshNotes().catch(() => {});
  }

  setCase(caseData) {
    const known = this.case?.address?.status;
    if (caseData.address?.status === "pending" && known && known !== "pending"
        && this.case.id === caseData.id && caseData.status === this.case.status) {
      // An answer that left before the search ended must not undo its result.
      caseData = { ...caseData, address: this.case.address };
    }
    this.case = caseData;
    this.tabLabel.textContent = caseData.contact_name
      ? `#${caseData.id} ${caseData.contact_name} (${caseData.phone})` : `#${caseData.id} ${caseData.phone}`;
    const line = caseData.line ? `${caseData.line.name}${caseData.line.number ? ` (${caseData.line.number})` : ""}` : "any line";
    const opened = parseTime(caseData.opened_at);
    replaceChildren(this.facts,
      h("div", {}, h("dt", {}, "Case"), h("dd", { class: "case-id" }, `#${caseData.id}`)),
      h("div", {}, h("dt", {}, "Status"), h("dd", { class: `case-status status-${caseData.status}` }, caseData.status)),
      h("div", {}, h("dt", {}, "Agent"), h("dd", { class: "case-agent" }, caseData.agent || "nobody")),
      h("div", {}, h("dt", {}, "Line"), h("dd", {}, line)),
      h("div", {}, h("dt", {}, "Opened"), h("dd", {}, opened ? exactTime(opened) : "")));
    const address = addressText(caseData.address);
    this.address.className = `case-address address-${address.kind}`;
    replaceChildren(this.address, h("span", { class: "label" }, "Address: "), address.text);
    this.optOut.hidden = !caseData.opted_out;
    applyWaiting(this, caseData);
    const sender = caseData.sender;
    if (sender && sender.kind !== "international") {
      this.facts.appendChild(h("div", {}, h("dt", {}, "From"),
        h("dd", { class: "case-sender" }, senderLabel(sender))));
    }
    const cannotReply = sender && sender.can_reply === false ? sender.cannot_reply_reason : null;
    this.noReply.hidden = !cannotReply;
    this.noReply.textContent = cannotReply ? `⚠ ${cannotReply}` : "";
    this.composer.setDisabled(caseData.status !== "open" ? "This case is closed." : cannotReply);
  }

  setTransferState(text) {
    this.transferState.textContent = text;
  }

  setMaxParts(maxParts) {
    this.composer.setMaxParts(maxParts);
  }

  setHistory(history) {
    this.merge(history.messages || []);
    if (!this.paged) {
      this.paged = true;
      this.hasMore = Boolean(history.has_more);
      this.nextBefore = history.next_before ?? null;
    }
  }

  /** Add or update messages; returns the inbound ones not seen before. */
  merge(messages) {
    const fresh = [];
    for (const message of messages) {
      if (!this.messages.has(message.id) && message.direction === "in") fresh.push(message);
      this.messages.set(message.id, message);
    }
    return fresh;
  }

  mergeNotes(notes) {
    for (const note of notes) this.notes.set(note.id, noteItem(note));
  }

  async refreshNotes() {
    const data = await loadNotes(this.app.api, this.id);
    this.mergeNotes(data.notes || []);
    this.render();
  }

  sorted() {
    return [...this.messages.values(), ...this.notes.values()].sort((a, b) => {
      const ta = parseTime(a.at) ?? 0;
      const tb = parseTime(b.at) ?? 0;
      return ta - tb || a.id - b.id;
    });
  }

  async refresh() {
    const page = await this.app.api.messages(this.id);
    const fresh = this.merge(page.messages || []);
    if (!this.paged) {
      this.paged = true;
      this.hasMore = Boolean(page.has_more);
      this.nextBefore = page.next_before ?? null;
    }
    await this.refreshNotes().catch(() => {});
    this.render();
    return fresh;
  }

  async loadOlder() {
    if (!this.nextBefore) return;
    const before = this.chat.scrollHeight - this.chat.scrollTop;
    const page = await this.app.api.messages(this.id, this.nextBefore);
    this.merge(page.messages || []);
    this.hasMore = Boolean(page.has_more);
    this.nextBefore = page.next_before ?? null;
    this.render();
    this.chat.scrollTop = this.chat.scrollHeight - before;
  }

  render() {
    const pending = this.app.outbox.forCase(this.id);
    const confirmed = new Set([...this.messages.values()].map((m) => m.client_id).filter(Boolean));
    const shownPending = pending.filter((item) => !confirmed.has(item.client_id));
    const key = JSON.stringify([[...this.messages.values()], [...this.notes.values()], shownPending, this.hasMore]);
    if (key === this.renderedKey) return;
    this.renderedKey = key;
    const atBottom = this.chat.scrollHeight - this.chat.scrollTop - this.chat.clientHeight < NEAR_BOTTOM_PX;
    this.loadEarlier.hidden = !this.hasMore;
    const me = this.app.user;
    const discarded = this.app.discardedMessages();
    const groups = groupByCase(this.sorted()).map((group) => {
      const start = parseTime(group.messages[0].at);
      return h("section", {
        class: `case-group${group.caseId === this.id ? " current" : ""}`, dataset: { caseId: String(group.caseId) },
      },
      groupHeading(group, this.id),
      h("ol", { class: "messages" }, ...group.messages.map((m) => (m.kind === "note" ? noteElement(m) : messageElement(m, {
        agentName: me && m.created_by === me.id ? me.username : "Agent",
        sinceStart: start === null ? null : ((parseTime(m.at) ?? start) - start) / 1000,
        onResend: (message, part) => this._resend(message, part),
        onDiscard: (message) => this._discard(message),
        discarded: discarded.has(m.id),
      })))));
    });
    if (shownPending.length) {
      groups.push(h("section", { class: "case-group pending-group" },
        h("ol", { class: "messages" }, ...shownPending.map((item) => pendingElement(item, {
          onDiscard: (i) => this.app.outbox.discard(i.client_id),
          onRetry: (i) => this.app.outbox.retry(i.client_id),
          onOverride: (i) => this.app.outbox.retry(i.client_id, { override: true }),
          onEdit: (i) => {
            this.app.outbox.discard(i.client_id);
            this.composer.setText(i.text);
            this.composer.focus();
          },
        })))));
    }
    if (!groups.length) groups.push(h("p", { class: "empty" }, "No messages yet."));
    replaceChildren(this.chatList, ...groups);
    if (atBottom || this.renderedOnce !== true) this.chat.scrollTop = this.chat.scrollHeight;
    this.renderedOnce = true;
  }

  setUnread(count) {
    this.unread = count;
    this.badge.hidden = count === 0;
    replaceChildren(this.badge, String(count), h("span", { class: "visually-hidden" }, " unread"));
  }

  setActive(active) {
    this.tab.setAttribute("aria-selected", active ? "true" : "false");
    this.tab.tabIndex = active ? 0 : -1;
    this.tab.classList.toggle("active", active);
    this.panel.hidden = !active;
    if (active) {
      this.setUnread(0);
      this.render();
      this.chat.scrollTop = this.chat.scrollHeight;
    }
  }

  focusComposer() {
    this.composer.focus();
  }

  _resend(message, part) {
    const text = partText(message, part);
    this.app.outbox.add(this.id, text);
    this.app.announce(`Resending${part && part.total > 1 ? ` part ${part.seq}` : ""} as a new message.`);
  }

  async _phone() {
    this.phoneError.textContent = "";
    const number = this.phoneInput.value.trim();
    if (!number) return;
    try {
      await this.app.startChat(number);
    } catch (error) {
      this.phoneError.textContent = error.message;
    }
  }

  /** The customer's last text in this case has no reply after it. */
  _unanswered() {
    // By id, the order the server stored them in: times can tie to the second.
    let lastIn = 0;
    let lastOut = 0;
    for (const m of this.messages.values()) {
      if (m.case_id !== this.id) continue;
      if (m.direction === "in") lastIn = Math.max(lastIn, m.id);
      else lastOut = Math.max(lastOut, m.id);
    }
    return lastIn > lastOut;
  }

  _keepOpen() {
    this.closeConfirm.hidden = true;
    this.composer.focus();
  }

  _discard(message) {
    this.app.discardMessage(message.id);
    this.renderedKey = null;
    this.render();
    this.app.announce("Discarded: the message stays in the history as not sent.");
  }

  async _close(confirmed = false) {
    if (!confirmed && this._unanswered()) {
      this.closeConfirm.hidden = false;
      this.closeConfirm.querySelector(".confirm-close").focus();
      return;
    }
    this.closeConfirm.hidden = true;
    if (this.app.outbox.hasUnconfirmed(this.id)) {
      this.app.flash(`Case #${this.id} still has messages that are not sent; send or discard them first.`, "warning");
      return;
    }
    const wrapUp = await askWrapUp(this.app, this);
    if (wrapUp === null) return;
    this.closeButton.disabled = true;
    try {
      await this.app.closeCase(this.id, wrapUp);
    } catch (error) {
      this.app.flash(`Could not close case #${this.id}: ${error.message}`, "error");
    } finally {
      this.closeButton.disabled = false;
    }
  }
}
