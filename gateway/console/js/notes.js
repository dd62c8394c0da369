// Internal notes on a case: a form of their own (apart from the reply box, so a note can never
// be sent by mistake) and the notes' place in the timeline.

import { h } from "./dom.js";
import { exactTime, formatAgo, parseTime } from "./time.js";

export function loadNotes(api, caseId) {
  return api.get(`/api/cases/${encodeURIComponent(caseId)}/notes`);
}

/** A note as a timeline item: sorted with the messages by `at`, told apart by `kind`. */
export function noteItem(note) {
  return { ...note, kind: "note" };
}

export function noteElement(note) {
  const ms = parseTime(note.at) ?? Date.now();
  return h("li", { class: "msg msg-note-item", dataset: { noteId: String(note.id) } },
    h("div", { class: "bubble note-bubble" },
      h("p", { class: "msg-who" }, h("span", { "aria-hidden": "true" }, "🔒 "),
        `Internal note by ${note.author || "someone"}`,
        h("span", { class: "visually-hidden" }, " (not sent to the customer)")),
      h("p", { class: "msg-text note-text" }, note.text),
      h("div", { class: "msg-meta" },
        h("time", {
          class: "msg-age", datetime: new Date(ms).toISOString(), title: exactTime(ms),
          dataset: { ageFrom: String(ms) },
        }, formatAgo(Date.now() - ms)))));
}

export class NoteForm {
  constructor({ api, caseId, onAdded, onError }) {
    const id = `case-${caseId}-note`;
    // One line (an input, not a textarea): the reply box stays the window's only textarea.
    this.textarea = h("input", {
      id, class: "note-input", maxlength: "4000", autocomplete: "off",
      placeholder: "Internal note: seen by agents and supervisors, never sent to the customer",
    });
    this.button = h("button", { type: "submit", class: "add-note" }, "Add note");
    this.error = h("p", { class: "field-error", role: "alert" });
    this.form = h("form", {
      class: "note-form", onsubmit: async (event) => {
        event.preventDefault();
        const text = this.textarea.value.trim();
        if (!text) return;
        this.button.disabled = true;
        this.error.textContent = "";
        try {
          const data = await api.post(`/api/cases/${encodeURIComponent(caseId)}/notes`, { text });
          this.textarea.value = "";
          onAdded(data.note);
        } catch (error) {
          this.error.textContent = `Note not saved: ${error.message}`;
          onError?.(error);
        } finally {
          this.button.disabled = false;
        }
      },
    },
    h("label", { for: id, class: "note-label" }, "Internal note"),
    h("div", { class: "row" }, this.textarea, this.button),
    this.error);
  }
}
