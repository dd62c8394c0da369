// The reply box: live counter, the characters that force Unicode (with an offer to replace
// look-alikes), the parts limit, Enter to send and Shift+Enter for a new line.

import {
  codePointLabel, countSegments, replaceLookAlikes, replaceableCharacters,
} from "./counter.js";
import { h, replaceChildren } from "./dom.js";

const ENCODING_NAMES = { gsm7: "GSM 7-bit", ucs2: "Unicode (UCS-2)" };

export class Composer {
  constructor({ id, label, maxParts, onSend, draft = null }) {
    this.maxParts = maxParts;
    this.onSend = onSend;
    this.draft = draft; // { load(), save(text) }: what is typed survives a reload
    this.textarea = h("textarea", {
      id, class: "compose-text", rows: "3", autocomplete: "off", spellcheck: "true",
      placeholder: "Type a reply. Enter sends, Shift+Enter adds a line.",
      "aria-describedby": `${id}-counter ${id}-ucs2 ${id}-limit`,
    });
    this.counter = h("p", { id: `${id}-counter`, class: "counter" });
    this.ucs2 = h("div", { id: `${id}-ucs2`, class: "ucs2-note", hidden: true });
    this.limit = h("p", { id: `${id}-limit`, class: "limit-note", role: "alert" });
    this.sendButton = h("button", { type: "submit", class: "primary send" }, "Send");
    this.form = h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); this.send(); } },
      h("label", { for: id, class: "visually-hidden" }, label),
      this.textarea,
      this.ucs2,
      h("div", { class: "composer-bar" }, this.counter, this.limit, this.sendButton));
    this.textarea.addEventListener("input", () => {
      this.update();
      this.draft?.save(this.textarea.value);
    });
    if (this.draft) this.textarea.value = this.draft.load();
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey
          && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        this.send();
      }
    });
    this.update();
  }

  setMaxParts(maxParts) {
    this.maxParts = maxParts;
    this.update();
  }

  setDisabled(reason) {
    this.textarea.disabled = Boolean(reason);
    this.sendButton.disabled = Boolean(reason);
    if (reason) this.limit.textContent = reason;
    else this.update();
  }

  focus() {
    this.textarea.focus();
  }

  setText(text) {
    this.textarea.value = text;
    this.update();
    this.draft?.save(text);
  }

  send() {
    const text = this.textarea.value;
    if (!text.trim()) return;
    const count = countSegments(text, this.maxParts);
    if (count.too_long || count.invalid) {
      this.update();
      return;
    }
    this.onSend(text);
    this.textarea.value = "";
    this.draft?.save("");
    this.update();
  }

  update() {
    const text = this.textarea.value;
    const count = countSegments(text, this.maxParts);
    const partWord = count.parts === 1 ? "part" : "parts";
    const limit = this.maxParts ? ` of ${this.maxParts} max` : "";
    this.counter.textContent = `${ENCODING_NAMES[count.encoding]} · ${count.parts} ${partWord}${limit}`
      + ` · ${count.units_left} left in this part · ${count.characters} characters`;
    this.counter.dataset.encoding = count.encoding;
    this.counter.dataset.parts = String(count.parts);
    if (count.invalid) {
      this.limit.textContent = `Cannot send: ${count.invalid}.`;
    } else if (count.too_long) {
      this.limit.textContent = `Too long: ${count.parts} parts; the limit is ${this.maxParts}. Shorten the message.`;
    } else {
      this.limit.textContent = "";
    }
    this.form.classList.toggle("too-long", Boolean(count.too_long || count.invalid));
    this.sendButton.disabled = this.textarea.disabled || Boolean(count.too_long || count.invalid);
    this._renderUcs2(text, count);
  }

  _renderUcs2(text, count) {
    if (count.encoding !== "ucs2") {
      this.ucs2.hidden = true;
      replaceChildren(this.ucs2);
      return;
    }
    const replaceable = replaceableCharacters(text);
    const marks = count.ucs2_characters.map((ch) => h("mark", {
      class: "ucs2-char", title: codePointLabel(ch),
    }, ch.trim() ? ch : codePointLabel(ch), h("span", { class: "visually-hidden" }, ` (${codePointLabel(ch)})`)));
    const offer = replaceable.length
      ? h("button", {
        type: "button", class: "replace-lookalikes",
        onclick: () => {
          const start = this.textarea.selectionStart;
          this.textarea.value = replaceLookAlikes(this.textarea.value);
          this.textarea.setSelectionRange(Math.min(start, this.textarea.value.length),
            Math.min(start, this.textarea.value.length));
          this.update();
          this.textarea.focus();
        },
      }, `Replace ${replaceable.length === 1 ? "look-alike" : "look-alikes"} (${replaceable.join(" ")}) with plain characters`)
      : null;
    replaceChildren(this.ucs2,
      h("span", {}, "These characters make the message Unicode (70 characters per part instead of 160): "),
      ...marks.flatMap((m) => [m, " "]),
      offer);
    this.ucs2.hidden = false;
  }
}
