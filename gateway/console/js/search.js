// Search of past conversations (by number, contact name or message text) in the panel; a
// result opens read-only, with a button to start a chat with the number.

import { groupByCase, groupHeading, messageElement } from "./chat.js";
import { h, replaceChildren } from "./dom.js";
import { loadNotes, noteElement, noteItem } from "./notes.js";
import { exactTime, parseTime } from "./time.js";

export class SearchPanel {
  constructor(app) {
    this.app = app;
    this.input = h("input", {
      id: "search-query", type: "search", class: "search-query", minlength: "2", maxlength: "100",
      placeholder: "Number, name or words", autocomplete: "off",
    });
    this.results = h("ol", { class: "search-results", "aria-label": "Search results" });
    this.status = h("p", { class: "search-status", role: "status" });
    this.form = h("form", {
      class: "search", role: "search", onsubmit: (e) => { e.preventDefault(); this.run(); },
    },
    h("h2", {}, h("label", { for: "search-query" }, "Search conversations")),
    h("div", { class: "row" }, this.input, h("button", { type: "submit", class: "search-button" }, "Search")),
    this.status, this.results);
    const dialpad = document.getElementById("dialpad");
    dialpad.parentNode.insertBefore(this.form, dialpad);
    this.viewer = h("dialog", { class: "case-viewer", "aria-labelledby": "case-viewer-title" });
    document.body.appendChild(this.viewer);
  }

  clear() {
    this.input.value = "";
    replaceChildren(this.results);
    this.status.textContent = "";
  }

  async run() {
    const q = this.input.value.trim();
    if (q.length < 2) {
      this.status.textContent = "Type at least 2 characters.";
      return;
    }
    let data;
    try {
      data = await this.app.api.get(`/api/search?${new URLSearchParams({ q })}`);
    } catch (error) {
      this.status.textContent = `Search failed: ${error.message}`;
      return;
    }
    const results = data.results || [];
    this.status.textContent = results.length ? `${results.length} case${results.length > 1 ? "s" : ""} found.` : "Nothing found.";
    replaceChildren(this.results, ...results.map((r) => h("li", { class: "search-result", dataset: { caseId: String(r.case_id) } },
      h("button", { type: "button", class: "link-button open-result", onclick: () => this.open(r) },
        `#${r.case_id} ${r.contact_name ? `${r.contact_name} (${r.phone})` : r.phone}`),
      h("span", { class: "search-meta" }, ` ${r.status}${r.wrap_up ? ` · ${r.wrap_up}` : ""}${r.agent ? ` · ${r.agent}` : ""}`),
      h("p", { class: "search-snippet" }, r.snippet))));
  }

  async open(result) {
    let history;
    let notes = [];
    try {
      history = await this.app.api.messages(result.case_id, null, 200);
      notes = (await loadNotes(this.app.api, result.case_id)).notes || [];
    } catch (error) {
      this.status.textContent = `Could not open case #${result.case_id}: ${error.message}`;
      return;
    }
    const items = [...(history.messages || []), ...notes.map(noteItem)].sort((a, b) =>
      (parseTime(a.at) ?? 0) - (parseTime(b.at) ?? 0));
    const opened = parseTime(result.opened_at);
    replaceChildren(this.viewer,
      h("header", { class: "case-viewer-head" },
        h("h2", { id: "case-viewer-title" }, `Case #${result.case_id} · ${result.contact_name || result.phone}`),
        h("p", {}, `${result.phone} · ${result.status}${result.wrap_up ? ` (${result.wrap_up})` : ""}`
          + `${opened ? ` · opened ${exactTime(opened)}` : ""} · read-only`)),
      h("div", { class: "chat case-viewer-chat", role: "log", "aria-label": `History of ${result.phone}` },
        ...groupByCase(items).map((group) => h("section", { class: "case-group" },
          groupHeading(group, result.case_id),
          h("ol", { class: "messages" }, ...group.messages.map((m) => (m.kind === "note"
            ? noteElement(m) : messageElement(m, { agentName: "Agent" }))))))),
      h("div", { class: "row" },
        h("button", {
          type: "button", class: "primary start-from-result",
          onclick: async () => {
            this.viewer.close();
            try {
              await this.app.startChat(result.phone);
            } catch (error) {
              this.app.flash(`Could not start a chat with ${result.phone}: ${error.message}`, "error");
            }
          },
        }, `Start SMS chat with ${result.phone}`),
        h("button", { type: "button", class: "close-viewer", onclick: () => this.viewer.close() }, "Close")));
    this.viewer.showModal();
  }
}
