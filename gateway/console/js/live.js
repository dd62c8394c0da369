// The live stream's events applied to the console: the queue, case windows, messages, lines;
// and what to show when the stream drops and comes back. Methods of the App (see main.js).

import { h } from "./dom.js";

export const liveEvents = {
  onEvent(event) {
    const type = event.type;
    const data = event.data || {};
    if (type.startsWith("case.")) this.transferOffers.onEvent(type, data);
    this.presence.onEvent(type, data);
    if (type.startsWith("request.")) {
      this.queue.onEvent(type, data);
      this.debounce("supervisor", () => this.supervisor?.refresh(), 500);
    } else if (type.startsWith("case.")) {
      this.onCaseEvent(type, data);
      this.debounce("supervisor", () => this.supervisor?.refresh(), 500);
    } else if (type.startsWith("message.")) {
      this.onMessageEvent(type, data);
    } else if (type === "line.status") {
      const id = data.id ?? data.line_id;
      const old = this.lines.get(id) || {};
      this.lines.set(id, { ...old, ...data, state: data.status ?? old.state });
      this.renderLineStrip();
      this.debounce("lines", () => this.refreshLines(), 1000);
    }
  },

  onCaseEvent(type, data) {
    const id = data.case_id;
    const mine = data.agent_id === this.user.id;
    const win = this.windows.get(id);
    if (type === "case.closed") {
      if (win) {
        this.removeWindow(id);
        this.announce(`Case #${id} closed.`);
      }
      return;
    }
    const reassigned = data.reason === "reassigned" || data.reason === "reassign";
    if (win) {
      if (!mine && data.agent_id !== undefined && this.user.role === "agent") {
        this.removeWindow(id);
        this.flash(`Case #${id} was reassigned to another agent.`, "warning");
        return;
      }
      this.debounce(`case-${id}`, () => this.api.caseDetail(id).then((d) => win.setCase(d.case)), 100);
      // A further text from the customer is attached to the case with a case.updated.
      this.debounce(`messages-${id}`, () => this.refreshCase(id), 150);
    } else if (this.opening.has(id)) {
      // The window is being opened with what the server said a moment ago: read it again.
      this.opening.get(id).then((opened) => this.api.caseDetail(id).then((d) => opened.setCase(d.case)))
        .catch(() => {});
    } else if (mine && data.status !== "closed") {
      this.openCase(id, { focus: false, notify: data.reason === "message" }).then(() => {
        if (reassigned) this.flash(`Case #${id} was assigned to you.`, "info");
      }).catch(() => {});
    }
  },

  onMessageEvent(type, data) {
    const caseId = data.case_id;
    if (caseId === null || caseId === undefined) return;
    if (this.windows.has(caseId)) {
      this.debounce(`messages-${caseId}`, () => this.refreshCase(caseId), 150);
      // A reply ends the customer's wait shown on the tab.
      this.debounce(`case-${caseId}`, () => this.api.caseDetail(caseId)
        .then((d) => this.windows.get(caseId)?.setCase(d.case)), 300);
    } else if (type === "message.created" && data.direction === "in") {
      // A text on one of my cases that has no window here (e.g. closed tab after a reload).
      this.api.caseDetail(caseId).then((d) => {
        if (d.case.agent_id === this.user.id && d.case.status === "open") this.openCase(caseId, { focus: false, notify: true });
      }).catch(() => {});
    }
  },

  async refreshCase(caseId) {
    const win = this.windows.get(caseId);
    if (!win) return;
    const fresh = await win.refresh();
    for (const message of fresh) this.noticeInbound(win, message);
  },

  noticeInbound(win, message) {
    const text = message.text ?? `[${message.placeholder || "not a text message"}]`;
    this.announce(`New message from ${win.case.phone} in case #${win.id}: ${text}`);
    if (this.active !== win.id || document.hidden) win.setUnread(win.unread + 1);
    this.alerts.blip();
  },

  onStreamDown() {
    document.body.classList.add("offline");
    this.setBanner("connection", "error",
      "Connection to the server lost. Reconnecting… Messages you send are kept and sent when the connection is back.",
      h("button", { type: "button", onclick: () => this.events.reconnectNow() }, "Reconnect now"));
  },

  onStreamReady({ missed, reconnected }) {
    document.body.classList.remove("offline");
    this.clearBanner("connection");
    if (reconnected) {
      // A customer's text in an open case arrives as case.updated (reason "message").
      const inbound = missed.filter((e) => (e.type === "case.updated" && e.data?.reason === "message")
        || (e.type === "message.created" && e.data?.direction === "in" && e.data?.case_id)).length;
      const requests = missed.filter((e) => e.type === "request.created").length;
      const other = missed.length - inbound - requests;
      const parts = [];
      if (inbound) parts.push(`${inbound} new message${inbound > 1 ? "s" : ""}`);
      if (requests) parts.push(`${requests} new request${requests > 1 ? "s" : ""}`);
      if (other) parts.push(`${other} other update${other > 1 ? "s" : ""}`);
      this.flash(`Reconnected. While disconnected: ${parts.length ? parts.join(", ") : "nothing was missed"}.`, "info");
      this.loadAll();
    }
    this.outbox.flush(true);
  },
};
