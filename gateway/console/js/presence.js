// The agent's presence in the top bar (Available, Away, Wrap-up) with open cases against the
// cap. Only an agent who can take work is rung; one at the cap still sees the queue.

import { h } from "./dom.js";

const LABELS = { available: "Available", away: "Away", wrap_up: "Wrap-up" };

export class PresenceControl {
  constructor(app) {
    this.app = app;
    this.presence = null;
    this.select = h("select", {
      id: "presence-status", class: "presence-status", "aria-label": "Your status",
      onchange: () => this.set(this.select.value),
    }, ...Object.entries(LABELS).map(([value, label]) => h("option", { value }, label)));
    this.load_ = h("span", { class: "presence-load", "aria-live": "polite" });
    this.element = h("div", { class: "presence" }, this.select, this.load_);
    const sound = document.getElementById("sound-button");
    sound.parentNode.insertBefore(this.element, sound);
  }

  /** False when this agent must not be rung (away, wrap-up, at the cap). */
  get canTake() {
    const p = this.presence;
    return p ? p.status === "available" && !p.at_capacity : true;
  }

  async load() {
    this.apply((await this.app.api.get("/api/me/presence")).presence);
  }

  async set(status) {
    try {
      this.apply((await this.app.api.request("PUT", "/api/me/presence", { body: { status } })).presence);
      this.app.announce(`You are ${LABELS[status].toLowerCase()}.`);
    } catch (error) {
      this.app.flash(`Could not change your status: ${error.message}`, "error");
    }
  }

  onEvent(type, data) {
    if (type === "agent.presence" && data.agent_id === this.app.user.id) {
      this.app.debounce("presence", () => this.load(), 100);
    } else if (type.startsWith("case.")) {
      this.app.debounce("presence", () => this.load(), 300);
    }
  }

  apply(presence) {
    this.presence = presence;
    this.select.value = presence.status;
    const cap = presence.max_open_cases ? `${presence.open_cases}/${presence.max_open_cases}` : `${presence.open_cases}`;
    this.load_.textContent = `Open cases ${cap}${presence.at_capacity ? " · at your limit: close a case to answer" : ""}`;
    this.element.classList.toggle("at-capacity", Boolean(presence.at_capacity));
    this.element.dataset.status = presence.status;
    this.app.renderRequests();
  }
}
