// Transfers: the Transfer form in a case window (to a colleague or back to the queue, with a
// note), and the offers made to this agent, shown above the waiting requests and rung like
// them until accepted or declined.

import { h, replaceChildren } from "./dom.js";

/** The Transfer button and its form, for one case window. */
export class TransferControl {
  constructor({ app, win }) {
    this.app = app;
    this.win = win;
    this.button = h("button", { type: "button", class: "transfer-case", onclick: () => this.toggle() }, "Transfer");
    this.element = h("div", { class: "transfer-form-slot" });
  }

  async toggle() {
    if (this.element.firstChild) {
      replaceChildren(this.element);
      return;
    }
    let agents = [];
    try {
      agents = (await this.app.api.get("/api/transfer-targets")).agents || [];
    } catch (error) {
      this.app.flash(`Could not load colleagues: ${error.message}`, "error");
    }
    const base = `case-${this.win.id}-transfer`;
    const target = h("select", { id: `${base}-target`, class: "transfer-target" },
      h("option", { value: "queue" }, "Back to the queue"),
      ...agents.map((a) => h("option", { value: `agent:${a.username}` }, a.username)));
    const note = h("input", { id: `${base}-note`, class: "transfer-note", maxlength: "1000", placeholder: "Note for whoever takes it (optional)" });
    const error = h("p", { class: "field-error", role: "alert" });
    const form = h("form", {
      class: "transfer-form", onsubmit: async (e) => {
        e.preventDefault();
        const body = target.value === "queue" ? { queue: true } : { agent: target.value.slice(6) };
        if (note.value.trim()) body.note = note.value.trim();
        try {
          await this.app.api.post(`/api/cases/${this.win.id}/transfer`, body);
          replaceChildren(this.element);
          const where = body.queue ? "the queue" : body.agent;
          this.win.setTransferState(`Offered to ${where}; the case stays yours until it is taken.`);
          this.app.announce(`Case #${this.win.id} offered to ${where}.`);
        } catch (err) {
          error.textContent = `Not transferred: ${err.message}`;
        }
      },
    },
    h("label", { for: `${base}-target` }, "Transfer to"), target,
    h("label", { for: `${base}-note` }, "Note"), note,
    h("button", { type: "submit", class: "primary transfer-confirm" }, "Offer"),
    h("button", { type: "button", onclick: () => replaceChildren(this.element) }, "Cancel"),
    error);
    replaceChildren(this.element, form);
    target.focus();
  }
}

/** The offers waiting for this agent, above the request list. */
export class TransferOffers {
  constructor(app) {
    this.app = app;
    this.offers = new Map(); // case id -> event data
    this.list = h("ol", { class: "transfer-offers", "aria-label": "Cases offered to you" });
    this.section = h("section", { class: "transfer-offers-section", hidden: true },
      h("h2", {}, "Cases offered to you"), this.list);
    const requests = document.getElementById("requests-heading");
    requests.parentNode.insertBefore(this.section, requests);
  }

  async load() {
    const data = await this.app.api.get("/api/transfers");
    this.offers.clear();
    for (const t of data.transfers || []) {
      this.offers.set(t.case_id, { case_id: t.case_id, note: t.note, from_agent_id: t.from_agent_id });
    }
    this.render();
  }

  onEvent(type, data) {
    if (type === "case.transfer" && data.offered_to === this.app.user.id) {
      this.offers.set(data.case_id, data);
      this.app.alert(`Case #${data.case_id} (${data.phone}) is offered to you${data.note ? `: ${data.note}` : ""}`);
      this.render();
    } else if (type === "case.transfer_declined" && data.agent_id === this.app.user.id) {
      this.app.flash(`Your transfer of case #${data.case_id} was declined; the case stays yours.`, "warning");
      this.app.windows.get(data.case_id)?.setTransferState("");
    } else if (type === "case.updated" && data.reason === "transferred") {
      this.offers.delete(data.case_id);
      this.render();
    } else if (type === "case.closed") {
      if (this.offers.delete(data.case_id)) this.render();
    }
  }

  /** For the ring: offers count as waiting requests. */
  asAlerts() {
    return [...this.offers.values()].map((o) => ({
      id: `transfer-${o.case_id}`, name: "Case offered to you", call_id: o.phone || `case #${o.case_id}`,
      line: null, preview: o.note || "",
    }));
  }

  render() {
    replaceChildren(this.list, ...[...this.offers.values()].map((o) => h("li", {
      class: "request transfer-offer", dataset: { caseId: String(o.case_id) },
    },
    h("p", { class: "request-name" }, `Case #${o.case_id}${o.phone ? ` · ${o.phone}` : ""}`),
    o.note ? h("p", { class: "request-preview transfer-offer-note" }, o.note) : null,
    h("div", { class: "request-actions" },
      h("button", { type: "button", class: "primary accept-transfer", onclick: () => this.answer(o, "accept") }, "Accept"),
      h("button", { type: "button", class: "decline-transfer", onclick: () => this.answer(o, "decline") }, "Decline")))));
    this.section.hidden = this.offers.size === 0;
    this.app.renderRequests();
  }

  async answer(offer, action) {
    try {
      const data = await this.app.api.post(`/api/cases/${offer.case_id}/transfer/${action}`);
      this.offers.delete(offer.case_id);
      this.render();
      if (action === "accept") {
        const win = await this.app.openCase(offer.case_id, { focus: true, caseData: data.case });
        win.focusComposer();
        this.app.announce(`Case #${offer.case_id} is yours.`);
      }
    } catch (error) {
      this.app.flash(`Could not ${action} case #${offer.case_id}: ${error.message}`, "error");
      this.offers.delete(offer.case_id);
      this.render();
    }
  }
}
