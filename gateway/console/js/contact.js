// The contact card in a case window: the customer's name, tags and notes, edited in place,
// and an offer to keep the address the search found on the contact.

import { h, replaceChildren } from "./dom.js";

function contactPath(phone) {
  return `/api/contacts/${encodeURIComponent(phone)}`;
}

export class ContactCard {
  constructor({ app, win }) {
    this.app = app;
    this.win = win;
    this.contact = null;
    this.element = h("div", { class: "contact-card", "aria-live": "polite" });
    this.load().catch(() => this.render());
  }

  async load() {
    try {
      this.contact = (await this.app.api.get(contactPath(this.win.case.phone))).contact;
    } catch (error) {
      if (error.status !== 404) throw error;
      this.contact = null;
    }
    this.render();
  }

  render() {
    const c = this.contact || { name: null, notes: null, tags: [], address: null };
    replaceChildren(this.element,
      h("p", { class: "contact-name" },
        h("span", { class: "label" }, "Contact: "),
        c.name ? h("strong", {}, c.name) : h("span", { class: "muted" }, "no name yet"),
        " ",
        h("button", { type: "button", class: "link-button edit-contact", onclick: () => this.edit() }, "Edit contact")),
      c.tags.length ? h("ul", { class: "contact-tags", "aria-label": "Tags" },
        ...c.tags.map((tag) => h("li", { class: "tag" }, tag))) : null,
      c.notes ? h("p", { class: "contact-notes" }, c.notes) : null,
      c.address ? h("p", { class: "contact-address" }, h("span", { class: "label" }, "Kept address: "), c.address) : null);
  }

  edit() {
    const c = this.contact || { name: null, notes: null, tags: [], address: null };
    const base = `case-${this.win.id}-contact`;
    const name = h("input", { id: `${base}-name`, class: "contact-name-input", maxlength: "200", value: c.name || "" });
    const tags = h("input", { id: `${base}-tags`, class: "contact-tags-input", value: c.tags.join(", "), placeholder: "comma separated" });
    const notes = h("textarea", { id: `${base}-notes`, class: "contact-notes-input", rows: "2", maxlength: "4000" });
    notes.value = c.notes || "";
    const found = this.win.case.address?.status === "found" ? this.win.case.address.address : null;
    const keep = h("input", { id: `${base}-keep`, type: "checkbox", class: "contact-keep-address" });
    const error = h("p", { class: "field-error", role: "alert" });
    const form = h("form", {
      class: "contact-form", onsubmit: async (e) => {
        e.preventDefault();
        const body = {
          name: name.value.trim() || null,
          notes: notes.value.trim() || null,
          tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
        };
        if (keep.checked && found) body.address = found;
        try {
          const data = await this.app.api.request("PUT", contactPath(this.win.case.phone), { body });
          this.contact = data.contact;
          this.win.setCase({ ...this.win.case, contact_name: data.contact.name });
          this.render();
          this.app.announce(`Contact ${data.contact.name || data.contact.phone} saved.`);
        } catch (err) {
          error.textContent = `Not saved: ${err.message}`;
        }
      },
    },
    h("label", { for: `${base}-name` }, "Name"), name,
    h("label", { for: `${base}-tags` }, "Tags"), tags,
    h("label", { for: `${base}-notes` }, "Notes about the contact"), notes,
    found ? h("label", { class: "check" }, keep, ` Keep the address found (${found}) on the contact`) : null,
    error,
    h("div", { class: "row" },
      h("button", { type: "submit", class: "primary save-contact" }, "Save contact"),
      h("button", { type: "button", onclick: () => this.render() }, "Cancel")));
    replaceChildren(this.element, form);
    name.focus();
  }
}
