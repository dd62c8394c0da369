// Canned replies: a "/" search in the reply box and a picker, both of which only fill the
// composer (placeholders filled in, the counter updated); the agent still presses Send.
// Also the dialog where agents keep their own replies and supervisors the shared ones.

import { h, replaceChildren } from "./dom.js";

/** One list per console, loaded on first use and after every change. */
class CannedList {
  constructor(api) {
    this.api = api;
    this.items = null;
    this.loading = null;
  }

  async all() {
    if (this.items) return this.items;
    if (!this.loading) {
      this.loading = this.api.get("/api/canned").then((data) => {
        this.items = data.canned || [];
        return this.items;
      }).finally(() => { this.loading = null; });
    }
    return this.loading;
  }

  invalidate() {
    this.items = null;
  }
}

const lists = new WeakMap();

export function cannedList(app) {
  if (!lists.has(app)) lists.set(app, new CannedList(app.api));
  return lists.get(app);
}

/** {agent}, {phone}, {contact} filled in; a missing name leaves no stray space. */
export function fillPlaceholders(text, { agent, phone, contact }) {
  return text
    .replaceAll("{agent}", agent || "")
    .replaceAll("{phone}", phone || "")
    .replaceAll("{contact}", contact || "")
    .replace(/ +([,.!?;:])/g, "$1")
    .replace(/ {2,}/g, " ");
}

export function matches(items, query) {
  const q = query.trim().toLowerCase();
  if (!q) return items;
  const byShortcut = items.filter((c) => (c.shortcut || "").toLowerCase().startsWith(q));
  const rest = items.filter((c) => !byShortcut.includes(c)
    && (c.title.toLowerCase().includes(q) || c.text.toLowerCase().includes(q)));
  return [...byShortcut, ...rest];
}

/**
 * The "/" search and the Canned picker for one case window's composer. `context()` gives the
 * values for the placeholders.
 */
export class CannedPicker {
  constructor({ app, composer, context }) {
    this.app = app;
    this.composer = composer;
    this.context = context;
    this.results = [];
    this.selected = 0;
    this.open = false;
    this.search = h("input", {
      type: "search", class: "canned-search", placeholder: "Search canned replies",
      "aria-label": "Search canned replies",
      oninput: () => this.show(this.search.value),
      onkeydown: (e) => this.onKey(e, true),
    });
    this.list = h("ul", { class: "canned-results", role: "listbox", "aria-label": "Canned replies" });
    this.popup = h("div", { class: "canned-popup", hidden: true }, this.search, this.list,
      h("div", { class: "canned-popup-bar" },
        h("button", { type: "button", class: "link-button canned-manage", onclick: () => openManager(app) },
          "Manage canned replies…"),
        h("button", { type: "button", class: "link-button", onclick: () => this.close() }, "Close")));
    this.button = h("button", {
      type: "button", class: "canned-button", title: "Insert a canned reply (or type / in the reply box)",
      "aria-haspopup": "listbox", onclick: () => this.toggle(),
    }, "Canned");
    composer.form.querySelector(".composer-bar").prepend(this.button);
    composer.form.prepend(this.popup);
    const textarea = composer.textarea;
    textarea.addEventListener("input", () => this.onInput());
    // Capture on the form: runs before the composer's own Enter-to-send.
    composer.form.addEventListener("keydown", (e) => {
      if (e.target === textarea && this.open) this.onKey(e, false);
    }, true);
  }

  slashQuery() {
    const match = this.composer.textarea.value.match(/^\/(\S*)$/);
    return match ? match[1] : null;
  }

  onInput() {
    const query = this.slashQuery();
    if (query !== null) {
      this.search.hidden = true;
      this.show(query);
    } else if (this.open && this.search.hidden) {
      this.close();
    }
  }

  toggle() {
    if (this.open) {
      this.close();
      return;
    }
    this.search.hidden = false;
    this.search.value = "";
    this.show("").then(() => this.search.focus());
  }

  async show(query) {
    let items;
    try {
      items = await cannedList(this.app).all();
    } catch (error) {
      this.app.flash(`Could not load canned replies: ${error.message}`, "error");
      return;
    }
    this.results = matches(items, query);
    this.selected = 0;
    this.open = true;
    this.popup.hidden = false;
    this.render();
  }

  render() {
    const rows = this.results.map((c, index) => h("li", {
      role: "option", class: `canned-item${index === this.selected ? " selected" : ""}`,
      "aria-selected": index === this.selected ? "true" : "false", dataset: { cannedId: String(c.id) },
      onmousedown: (e) => { e.preventDefault(); this.insert(c); },
    },
    h("span", { class: "canned-title" }, c.title),
    c.shortcut ? h("kbd", { class: "canned-shortcut" }, `/${c.shortcut}`) : null,
    c.shared ? h("span", { class: "canned-shared" }, "shared") : null,
    h("span", { class: "canned-text" }, c.text)));
    if (!rows.length) rows.push(h("li", { class: "empty" }, "No canned reply matches."));
    replaceChildren(this.list, ...rows);
  }

  onKey(event, fromSearch) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      const count = this.results.length || 1;
      this.selected = (this.selected + step + count) % count;
      this.render();
    } else if (event.key === "Enter" && !event.shiftKey) {
      // Never a Send while the list is open: Enter picks, Escape closes.
      event.preventDefault();
      event.stopImmediatePropagation();
      const choice = this.results[this.selected];
      if (choice) this.insert(choice);
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.close();
      if (fromSearch) this.composer.focus();
    }
  }

  insert(canned) {
    const text = fillPlaceholders(canned.text, this.context());
    const textarea = this.composer.textarea;
    const current = this.slashQuery() !== null ? "" : textarea.value;
    this.composer.setText(current ? `${current}${current.endsWith(" ") ? "" : " "}${text}` : text);
    this.close();
    this.composer.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    this.app.announce(`Canned reply "${canned.title}" inserted. Review it and press Send.`);
  }

  close() {
    this.open = false;
    this.popup.hidden = true;
  }
}

// ---------------------------------------------------------------- the manager dialog

let manager = null;

function openManager(app) {
  if (!manager) {
    manager = new CannedManager(app);
    document.body.appendChild(manager.dialog);
  }
  manager.show();
}

class CannedManager {
  constructor(app) {
    this.app = app;
    this.editing = null;
    this.title = h("input", { id: "canned-title", maxlength: "200", required: true });
    this.text = h("textarea", { id: "canned-text", rows: "4", maxlength: "4000", required: true });
    this.shortcut = h("input", { id: "canned-shortcut", maxlength: "50", placeholder: "e.g. hi" });
    this.shared = h("input", { id: "canned-shared", type: "checkbox" });
    this.sharedRow = h("label", { class: "check" }, this.shared, " Shared with every agent");
    this.error = h("p", { class: "field-error", role: "alert" });
    this.list = h("ul", { class: "canned-manage-list" });
    this.saveButton = h("button", { type: "submit", class: "primary" }, "Save");
    this.dialog = h("dialog", { class: "canned-dialog", "aria-labelledby": "canned-dialog-title" },
      h("h2", { id: "canned-dialog-title" }, "Canned replies"),
      h("p", { class: "hint" }, "Use {agent}, {phone} and {contact} in the text: they are filled in when the reply is inserted."),
      this.list,
      h("form", { class: "canned-form", onsubmit: (e) => { e.preventDefault(); this.save(); } },
        h("label", { for: "canned-title" }, "Title"), this.title,
        h("label", { for: "canned-text" }, "Text"), this.text,
        h("label", { for: "canned-shortcut" }, "Shortcut (type /shortcut in the reply box)"), this.shortcut,
        this.sharedRow,
        this.error,
        h("div", { class: "row" }, this.saveButton,
          h("button", { type: "button", onclick: () => this.edit(null) }, "New"),
          h("button", { type: "button", class: "canned-close", onclick: () => this.dialog.close() }, "Close"))));
  }

  async show() {
    this.sharedRow.hidden = this.app.user.role === "agent";
    this.edit(null);
    if (!this.dialog.open) this.dialog.showModal();
    await this.reload();
  }

  async reload() {
    const list = cannedList(this.app);
    list.invalidate();
    const items = await list.all();
    const canEdit = (c) => !c.shared || this.app.user.role !== "agent";
    replaceChildren(this.list, ...items.map((c) => h("li", { dataset: { cannedId: String(c.id) } },
      h("span", { class: "canned-title" }, c.title),
      c.shared ? h("span", { class: "canned-shared" }, " shared") : null,
      canEdit(c) ? h("button", { type: "button", class: "link-button", onclick: () => this.edit(c) }, "Edit") : null,
      canEdit(c) ? h("button", { type: "button", class: "link-button danger", onclick: () => this.remove(c) }, "Delete") : null)));
  }

  edit(canned) {
    this.editing = canned;
    this.title.value = canned?.title || "";
    this.text.value = canned?.text || "";
    this.shortcut.value = canned?.shortcut || "";
    this.shared.checked = Boolean(canned?.shared);
    this.shared.disabled = Boolean(canned);
    this.error.textContent = "";
    this.saveButton.textContent = canned ? "Save changes" : "Add";
  }

  async save() {
    const body = { title: this.title.value, text: this.text.value };
    if (this.shortcut.value.trim()) body.shortcut = this.shortcut.value.trim();
    try {
      if (this.editing) {
        await this.app.api.request("PUT", `/api/canned/${this.editing.id}`, { body });
      } else {
        if (this.shared.checked) body.shared = true;
        await this.app.api.post("/api/canned", body);
      }
      this.edit(null);
      await this.reload();
    } catch (error) {
      this.error.textContent = error.message;
    }
  }

  async remove(canned) {
    try {
      await this.app.api.request("DELETE", `/api/canned/${canned.id}`);
      await this.reload();
    } catch (error) {
      this.error.textContent = error.message;
    }
  }
}
