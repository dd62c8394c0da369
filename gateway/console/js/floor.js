// The supervisor's live floor, at the top of the supervisor tab: the queue, today's figures,
// each agent's presence and load with their longest-waiting customer, and a read-only live
// view of any open case.

import { groupByCase, groupHeading, messageElement } from "./chat.js";
import { h, replaceChildren } from "./dom.js";
import { loadNotes, noteElement, noteItem } from "./notes.js";
import { formatWait, parseTime } from "./time.js";

const REFRESH_MS = 5000;
const WATCH_REFRESH_MS = 2000;
const PRESENCE = { available: "● available", away: "○ away", wrap_up: "◐ wrap-up" };

function seconds(s) {
  return s === null || s === undefined ? "–" : formatWait(s * 1000);
}

const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

export class FloorView {
  constructor(app) {
    this.app = app;
    this.queue = h("p", { class: "floor-queue" });
    this.figures = h("dl", { class: "floor-figures" });
    this.agents = h("tbody");
    this.cases = h("ul", { class: "floor-cases" });
    this.element = h("section", { class: "floor", "aria-labelledby": "floor-title" },
      h("h2", { id: "floor-title" }, "Live floor"),
      this.queue, this.figures,
      h("table", { class: "grid", id: "floor-agents" },
        h("thead", {}, h("tr", {}, h("th", {}, "Agent"), h("th", {}, "Presence"), h("th", {}, "Open cases"),
          h("th", {}, "Longest-waiting customer"))),
        this.agents),
      h("h3", {}, "Watch a case"), this.cases);
    this.viewer = h("dialog", { class: "case-watch", "aria-label": "Live view of a case" });
    document.body.appendChild(this.viewer);
    this.timer = null;
    this.watchTimer = null;
  }

  start() {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    clearInterval(this.watchTimer);
    this.viewer.remove();
    this.element.remove();
  }

  async refresh() {
    let floor;
    let stats;
    let cases;
    try {
      [floor, stats, cases] = await Promise.all([
        this.app.api.get("/api/floor"), this.app.api.get("/api/stats"), this.app.api.cases("open", false),
      ]);
    } catch {
      return;
    }
    const f = floor.floor;
    const s = stats.stats;
    this.queue.textContent = `Queue: ${f.queue.count} waiting`
      + `${f.queue.longest_wait_s !== null ? ` · longest ${seconds(f.queue.longest_wait_s)}` : ""}`
      + ` · ${plural(f.open_cases, "open case")} · ${plural(f.customers_waiting, "customer")}`
      + ` awaiting a reply`;
    const figure = (label, value, cls) => h("div", { class: `figure ${cls}` }, h("dt", {}, label), h("dd", {}, String(value)));
    replaceChildren(this.figures,
      figure("Requests today", s.requests, "fig-requests"), figure("Answered", s.answered, "fig-answered"),
      figure("Abandoned", s.abandoned, "fig-abandoned"), figure("Median time to answer", seconds(s.median_answer_s), "fig-answer"),
      figure("Median time to first reply", seconds(s.median_first_reply_s), "fig-reply"));
    replaceChildren(this.agents, ...f.agents.map((a) => {
      const p = a.presence;
      const oldest = parseTime(a.oldest_waiting_since);
      return h("tr", { dataset: { agent: a.username } },
        h("td", {}, a.username),
        h("td", { class: `presence-${p.online ? p.status : "offline"}` }, p.online ? PRESENCE[p.status] : "offline"),
        h("td", { class: p.at_capacity ? "at-capacity" : "" }, p.max_open_cases ? `${p.open_cases}/${p.max_open_cases}` : String(p.open_cases)),
        h("td", {}, oldest === null ? "" : h("span", { dataset: { waitFrom: String(oldest) } }, formatWait(Date.now() - oldest))));
    }));
    replaceChildren(this.cases, ...(cases.cases || []).map((c) => h("li", {},
      h("button", { type: "button", class: "link-button watch-case", dataset: { caseId: String(c.id) }, onclick: () => this.watch(c) },
        `#${c.id} ${c.contact_name || c.phone} (${c.agent || "nobody"})`))));
  }

  async watch(caseData) {
    clearInterval(this.watchTimer);
    const render = async () => {
      let history;
      let notes;
      try {
        history = await this.app.api.messages(caseData.id, null, 200);
        notes = (await loadNotes(this.app.api, caseData.id)).notes || [];
      } catch {
        return;
      }
      const items = [...(history.messages || []), ...notes.map(noteItem)].sort((a, b) =>
        (parseTime(a.at) ?? 0) - (parseTime(b.at) ?? 0));
      // Opens at the newest message and follows new ones, unless the supervisor scrolled up.
      const before = this.viewer.querySelector(".case-viewer-chat");
      const follow = !before || before.scrollTop + before.clientHeight >= before.scrollHeight - 8;
      const top = before ? before.scrollTop : 0;
      replaceChildren(this.viewer,
        h("h2", {}, `Watching case #${caseData.id} · ${caseData.contact_name || caseData.phone} · ${caseData.agent || "nobody"} (read-only, live)`),
        h("div", { class: "chat case-viewer-chat", role: "log" },
          ...groupByCase(items).map((group) => h("section", { class: "case-group" },
            groupHeading(group, caseData.id),
            h("ol", { class: "messages" }, ...group.messages.map((m) => (m.kind === "note"
              ? noteElement(m) : messageElement(m, { agentName: "Agent" }))))))),
        h("button", { type: "button", class: "close-watch", onclick: () => this.unwatch() }, "Close"));
      const chat = this.viewer.querySelector(".case-viewer-chat");
      if (chat) chat.scrollTop = follow ? chat.scrollHeight : top;
    };
    await render();
    if (!this.viewer.open) {
      this.viewer.showModal();
      const chat = this.viewer.querySelector(".case-viewer-chat");
      if (chat) chat.scrollTop = chat.scrollHeight; // laid out only now that it shows
    }
    this.watchTimer = setInterval(render, WATCH_REFRESH_MS);
  }

  unwatch() {
    clearInterval(this.watchTimer);
    this.viewer.close();
  }
}
