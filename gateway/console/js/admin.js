// The admin screens, for what otherwise needs the command line: users (add, role, disable,
// reset password), API tokens (create with scopes, revoke, last used), lines, the audit log
// (by user, case, action), opt-outs, and erasing what is held about a number. Opened from the
// top bar by admins.

import { h, replaceChildren } from "./dom.js";
import { exactTime, parseTime } from "./time.js";

const SCOPES = ["requests:read", "requests:answer", "cases:read", "cases:write", "messages:send",
  "lines:read", "events:read", "supervise", "admin"];
const ROLES = ["agent", "supervisor", "admin"];
const SECTIONS = [["users", "Users"], ["tokens", "API tokens"], ["lines", "Lines"], ["audit", "Audit log"], ["optouts", "Opt-outs"], ["erase", "Erase a number"]];

function when(value) {
  const ms = parseTime(value);
  return ms === null ? "never" : exactTime(ms);
}

export class AdminScreens {
  constructor(app) {
    this.app = app;
    this.button = h("button", { type: "button", id: "admin-button", class: "admin-button", onclick: () => this.open() }, "Admin");
    this.message = h("p", { class: "admin-message", role: "status" });
    this.body = h("div", { class: "admin-body" });
    this.nav = h("nav", { class: "admin-nav", "aria-label": "Admin screens" },
      ...SECTIONS.map(([key, label]) => h("button", {
        type: "button", class: `admin-tab admin-tab-${key}`, onclick: () => this.show(key),
      }, label)));
    this.dialog = h("dialog", { class: "admin-dialog", "aria-labelledby": "admin-title" },
      h("header", { class: "admin-head" }, h("h2", { id: "admin-title" }, "Administration"),
        h("button", { type: "button", class: "admin-close", onclick: () => this.dialog.close() }, "Close")),
      this.nav, this.message, this.body);
    document.body.appendChild(this.dialog);
    const logout = document.getElementById("logout-button");
    logout.parentNode.insertBefore(this.button, logout);
  }

  remove() {
    this.button.remove();
    this.dialog.remove();
  }

  open() {
    if (!this.dialog.open) this.dialog.showModal();
    this.show(this.section || "users");
  }

  say(text) {
    this.message.textContent = text;
  }

  /** A section's content, unless the admin has moved to another while it loaded. */
  render(section, ...nodes) {
    if (this.section === section) replaceChildren(this.body, ...nodes);
  }

  async show(section) {
    this.section = section;
    for (const tab of this.nav.children) tab.setAttribute("aria-pressed", String(tab.classList.contains(`admin-tab-${section}`)));
    try {
      await this[section]();
    } catch (error) {
      this.say(`Could not load: ${error.message}`);
    }
  }

  async act(fn, done) {
    try {
      await fn();
      this.say(done);
    } catch (error) {
      this.say(`Failed: ${error.message}`);
    }
    await this.show(this.section);
  }

  // ---------------------------------------------------------------- users

  async users() {
    const { users } = await this.app.api.get("/api/users");
    const name = h("input", { id: "admin-new-username", maxlength: "100", required: true });
    const role = h("select", { id: "admin-new-role" }, ...ROLES.map((r) => h("option", { value: r }, r)));
    const rows = users.map((u) => {
      const roleSelect = h("select", { "aria-label": `Role of ${u.username}`, class: "admin-role",
        onchange: () => this.act(() => this.app.api.post(`/api/users/${u.id}`, { role: roleSelect.value }),
          `${u.username} is now ${roleSelect.value}.`) },
      ...ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
      roleSelect.value = u.role;
      return h("tr", { dataset: { user: u.username } },
        h("td", {}, u.username), h("td", {}, roleSelect),
        h("td", {}, u.disabled ? "disabled" : "active"), h("td", {}, when(u.last_seen)),
        h("td", {},
          h("button", { type: "button", class: "admin-toggle",
            onclick: () => this.act(() => this.app.api.post(`/api/users/${u.id}`, { disabled: !u.disabled }),
              `${u.username} ${u.disabled ? "enabled" : "disabled"}.`) }, u.disabled ? "Enable" : "Disable"),
          " ",
          h("button", { type: "button", class: "admin-reset", onclick: () => this.resetPassword(u) }, "Reset password")));
    });
    this.render("users",
      h("table", { class: "grid admin-users" },
        h("thead", {}, h("tr", {}, ...["User", "Role", "State", "Last seen", ""].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...rows)),
      h("form", { class: "admin-form admin-add-user", onsubmit: (e) => {
        e.preventDefault();
        this.act(async () => {
          const data = await this.app.api.post("/api/users", { username: name.value.trim(), role: role.value });
          this.lastPassword = data.password;
        }, `Created ${name.value.trim()}.`).then(() => {
          if (this.lastPassword) this.say(`Created. Their password (shown once): ${this.lastPassword}`);
          this.lastPassword = null;
        });
      } },
      h("h3", {}, "Add a user"),
      h("label", { for: "admin-new-username" }, "Username"), name,
      h("label", { for: "admin-new-role" }, "Role"), role,
      h("button", { type: "submit", class: "primary admin-create-user" }, "Add user")));
  }

  async resetPassword(user) {
    // A generated password, shown once: the server makes it when none is sent on create,
    // so here the console makes one from the platform's CSPRNG.
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    const password = btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, "x");
    try {
      await this.app.api.post(`/api/users/${user.id}`, { password });
      await this.show("users");
      this.say(`New password for ${user.username} (shown once; their sessions have ended): ${password}`);
    } catch (error) {
      this.say(`Failed: ${error.message}`);
    }
  }

  // ---------------------------------------------------------------- tokens

  async tokens() {
    const [{ tokens }, { users }] = await Promise.all([this.app.api.get("/api/tokens"), this.app.api.get("/api/users")]);
    const names = new Map(users.map((u) => [u.id, u.username]));
    const name = h("input", { id: "admin-token-name", maxlength: "100", required: true });
    const user = h("select", { id: "admin-token-user" }, ...users.map((u) => h("option", { value: u.username }, u.username)));
    const boxes = SCOPES.map((s) => h("input", { type: "checkbox", value: s, class: "admin-scope" }));
    this.render("tokens",
      h("table", { class: "grid admin-tokens" },
        h("thead", {}, h("tr", {}, ...["Name", "User", "Scopes", "Created", "Last used", ""].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...tokens.map((t) => h("tr", { dataset: { token: t.name } },
          h("td", {}, t.name), h("td", {}, names.get(t.user_id) || "?"), h("td", {}, t.scopes.join(" ")),
          h("td", {}, when(t.created_at)), h("td", {}, when(t.last_used_at)),
          h("td", {}, t.revoked ? "revoked" : h("button", { type: "button", class: "admin-revoke",
            onclick: () => this.act(() => this.app.api.post(`/api/tokens/${t.id}/revoke`), `Token ${t.name} revoked.`) }, "Revoke")))))),
      h("form", { class: "admin-form", onsubmit: (e) => {
        e.preventDefault();
        const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
        this.app.api.post("/api/tokens", { name: name.value.trim(), user: user.value, scopes })
          .then((data) => this.show("tokens").then(() => this.say(`Token created. Its secret (shown once): ${data.secret}`)))
          .catch((error) => this.say(`Failed: ${error.message}`));
      } },
      h("h3", {}, "Create a token"),
      h("label", { for: "admin-token-name" }, "Name"), name,
      h("label", { for: "admin-token-user" }, "Acts for"), user,
      h("fieldset", {}, h("legend", {}, "Scopes"), ...boxes.map((b) => h("label", { class: "check" }, b, ` ${b.value}`))),
      h("button", { type: "submit", class: "primary" }, "Create token")));
  }

  // ---------------------------------------------------------------- lines, audit, opt-outs

  async lines() {
    const { lines } = await this.app.api.lines();
    this.render("lines", h("table", { class: "grid admin-lines" },
      h("thead", {}, h("tr", {}, ...["Line", "Number", "State", "Can send", "Queue", "Last error", "Last inbound"].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...lines.map((l) => h("tr", {},
        h("td", {}, l.name), h("td", {}, l.number || ""), h("td", {}, l.state || "unknown"),
        h("td", {}, l.can_send ? "yes" : "no"), h("td", {}, String(l.queue_depth)),
        h("td", {}, l.last_error || ""), h("td", {}, when(l.last_inbound_at)))))));
  }

  async audit(filters = {}) {
    const query = new URLSearchParams({ limit: "200" });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    const { entries } = await this.app.api.get(`/api/audit?${query}`);
    const { users } = await this.app.api.get("/api/users");
    const names = new Map(users.map((u) => [u.id, u.username]));
    const user = h("input", { id: "admin-audit-user", value: filters.user || "", placeholder: "username" });
    const kase = h("input", { id: "admin-audit-case", value: filters.case || "", inputmode: "numeric", placeholder: "case number" });
    const action = h("input", { id: "admin-audit-action", value: filters.action || "", placeholder: "e.g. case.close" });
    this.render("audit",
      h("form", { class: "admin-form admin-audit-filter", onsubmit: (e) => {
        e.preventDefault();
        this.audit({ user: user.value.trim(), case: kase.value.trim(), action: action.value.trim() })
          .catch((error) => this.say(`Failed: ${error.message}`));
      } },
      h("label", { for: "admin-audit-user" }, "User"), user,
      h("label", { for: "admin-audit-case" }, "Case"), kase,
      h("label", { for: "admin-audit-action" }, "Action"), action,
      h("button", { type: "submit" }, "Filter")),
      h("table", { class: "grid admin-audit" },
        h("thead", {}, h("tr", {}, ...["When", "User", "Action", "Target", "Details"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...entries.map((e) => h("tr", {},
          h("td", {}, when(e.at)), h("td", {}, e.user_id ? names.get(e.user_id) || String(e.user_id) : "system"),
          h("td", {}, e.action), h("td", {}, e.target || ""), h("td", { class: "admin-details" }, JSON.stringify(e.details)))))));
  }

  async optouts() {
    const { optouts } = await this.app.api.get("/api/optouts");
    this.render("optouts", optouts.length
      ? h("table", { class: "grid admin-optouts" },
        h("thead", {}, h("tr", {}, ...["Number", "Name", "Opted out"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...optouts.map((o) => h("tr", {}, h("td", {}, o.phone), h("td", {}, o.name || ""), h("td", {}, when(o.opted_out_at))))))
      : h("p", { class: "empty" }, "No number has opted out."));
  }

  // ---------------------------------------------------------------- erase a number

  erase() {
    const phone = h("input", { id: "admin-erase-phone", maxlength: "40", required: true, autocomplete: "off" });
    const form = h("form", { class: "admin-erase", onsubmit: async (event) => {
      event.preventDefault();
      const number = phone.value.trim();
      if (!number || !window.confirm(`Erase every message, note and case of ${number}? This cannot be undone.`)) return;
      try {
        const { forgotten } = await this.app.api.post(`/api/contacts/${encodeURIComponent(number)}/forget`);
        this.say(`Erased ${number}: ${forgotten.messages} messages, ${forgotten.notes} notes, ${forgotten.cases} cases.`);
        phone.value = "";
      } catch (error) {
        this.say(`Failed: ${error.message}`);
      }
    } },
    h("p", {}, "Erases everything held about a number (a person's request to be forgotten): its messages, notes, cases and contact record. Refused while it has an open case. The audit log records who did it, not the number."),
    h("label", { for: "admin-erase-phone" }, "Number"), phone,
    h("button", { type: "submit", class: "admin-erase-button" }, "Erase…"));
    this.render("erase", form);
  }
}
