// The supervisor view: every open case and waiting request with waiting times, the agents
// online, and reassigning a case to another agent.

import { h, replaceChildren } from "./dom.js";
import { exactTime, formatAgo, formatWait, parseTime } from "./time.js";
import { byWaiting } from "./waiting.js";

const REFRESH_EVERY_MS = 15000;

export class SupervisorView {
  constructor(app) {
    this.app = app;
    this.id = "supervisor";
    this.unread = 0;
    this.choices = new Map(); // case id -> the agent chosen in its Reassign list
    this.tab = h("button", {
      type: "button", role: "tab", id: "supervisor-tab", class: "tab tab-supervisor",
      "aria-controls": "supervisor", "aria-selected": "false", tabindex: "-1",
      onclick: () => app.activate("supervisor"),
    }, h("span", { class: "tab-label" }, "Supervisor"));
    this.requestsBody = h("tbody");
    this.casesBody = h("tbody");
    this.agentsBody = h("tbody");
    this.message = h("p", { class: "supervisor-message", role: "status" });
    this.panel = h("section", {
      id: "supervisor", role: "tabpanel", class: "supervisor", "aria-labelledby": "supervisor-tab", hidden: true,
    },
    this.message,
    h("h2", {}, "Waiting requests"),
    h("table", { class: "grid", id: "supervisor-requests" },
      h("thead", {}, h("tr", {}, h("th", {}, "Call ID"), h("th", {}, "Line"), h("th", {}, "Waiting"),
        h("th", {}, "Flag"), h("th", {}, "Preview"))),
      this.requestsBody),
    h("h2", {}, "Open cases"),
    h("table", { class: "grid", id: "supervisor-cases" },
      h("thead", {}, h("tr", {}, h("th", {}, "Case"), h("th", {}, "Phone"), h("th", {}, "Agent"),
        h("th", {}, "Open for"), h("th", {}, "Customer waiting"), h("th", {}, "Reassign to"), h("th", {}, ""))),
      this.casesBody),
    h("h2", {}, "Agents"),
    h("table", { class: "grid", id: "supervisor-agents" },
      h("thead", {}, h("tr", {}, h("th", {}, "Agent"), h("th", {}, "Role"), h("th", {}, "Status"),
        h("th", {}, "Open cases"), h("th", {}, "Last seen"))),
      this.agentsBody));
    this.agents = [];
    this.cases = [];
    this.timer = null;
  }

  start() {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_EVERY_MS);
  }

  stop() {
    clearInterval(this.timer);
  }

  setActive(active) {
    this.tab.setAttribute("aria-selected", active ? "true" : "false");
    this.tab.tabIndex = active ? 0 : -1;
    this.tab.classList.toggle("active", active);
    this.panel.hidden = !active;
    if (active) this.refresh();
  }

  async refresh() {
    try {
      const [cases, agents] = await Promise.all([this.app.api.cases("open", false), this.app.api.agents()]);
      this.cases = cases.cases || [];
      this.agents = agents.agents || [];
    } catch (error) {
      this.message.textContent = `Could not load the supervisor view: ${error.message}`;
      this.loadFailed = true;
      return;
    }
    // Only a load error is cleared here: what the supervisor's last action said stays.
    if (this.loadFailed) this.message.textContent = "";
    this.loadFailed = false;
    this.renderRequests(this.app.requests);
    this.renderCases();
    this.renderAgents();
  }

  renderRequests(requests) {
    const rows = requests.map((r) => {
      const created = parseTime(r.created_at) ?? Date.now();
      return h("tr", { class: r.overdue ? "overdue" : "", dataset: { requestId: String(r.id) } },
        h("td", {}, r.call_id),
        h("td", {}, r.line ? r.line.name : ""),
        h("td", { title: exactTime(created) }, h("span", { dataset: { waitFrom: String(created) } }, formatWait(Date.now() - created))),
        h("td", { class: "request-flags" }, [r.overdue ? "⚠ overdue" : "",
          r.away_agent ? `⚠ ${r.away_agent} is away (case #${r.case_id})` : ""].filter(Boolean).join(" · ")),
        h("td", { class: "preview" }, r.preview || ""));
    });
    if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No one is waiting.")));
    replaceChildren(this.requestsBody, ...rows);
  }

  renderCases() {
    const online = new Map(this.agents.map((a) => [a.username, a.online]));
    const rows = byWaiting(this.cases).map((c) => {
      const opened = parseTime(c.opened_at) ?? Date.now();
      const waiting = parseTime(c.waiting_since);
      // No agent is chosen for the supervisor: a click on Reassign needs a deliberate choice.
      const chosen = this.choices.get(c.id) || "";
      const select = h("select", {
        "aria-label": `Reassign case #${c.id} to`,
        onchange: (e) => this.choices.set(c.id, e.target.value),
      },
      h("option", { value: "", disabled: true, selected: !chosen }, "Choose an agent…"),
      ...this.agents.filter((a) => a.username !== c.agent).map((a) =>
        h("option", { value: a.username, selected: a.username === chosen },
          `${a.username}${a.online ? "" : " (offline)"}`)));
      const agentOffline = c.agent && online.get(c.agent) === false;
      return h("tr", { dataset: { caseId: String(c.id) }, class: agentOffline ? "agent-offline" : "" },
        h("td", {}, `#${c.id}`),
        h("td", {}, c.phone),
        h("td", {}, c.agent || "nobody", agentOffline ? h("span", { class: "flag" }, " ⚠ offline") : null),
        h("td", { title: `Opened ${exactTime(opened)}` },
          h("span", { dataset: { waitFrom: String(opened) } }, formatWait(Date.now() - opened))),
        h("td", { class: c.reply_overdue ? "customer-waiting" : "" }, waiting === null ? "" : h("span", {},
          c.reply_overdue ? "⚠ " : "", h("span", { dataset: { waitFrom: String(waiting) } }, formatWait(Date.now() - waiting)))),
        h("td", {}, select,
          h("button", {
            type: "button", class: "reassign",
            onclick: () => this.reassign(c.id, select.value),
          }, "Reassign")),
        h("td", {}, h("button", {
          type: "button", class: "open-case", onclick: () => this.app.openCase(c.id, { focus: true }),
        }, "Open")));
    });
    if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: "7", class: "empty" }, "No open cases.")));
    replaceChildren(this.casesBody, ...rows);
  }

  renderAgents() {
    const rows = this.agents.map((a) => {
      const seen = parseTime(a.last_seen);
      return h("tr", { dataset: { agent: a.username } },
        h("td", {}, a.username),
        h("td", {}, a.role),
        h("td", { class: a.online ? "online" : "offline" },
          h("span", { "aria-hidden": "true" }, a.online ? "● " : "○ "), a.online ? "online" : "offline"),
        h("td", {}, String(a.open_cases)),
        // Online: here now; else the last time the agent was seen.
        h("td", { title: seen ? exactTime(seen) : "" },
          a.online ? "now" : seen ? formatAgo(Date.now() - seen) : "never"));
    });
    replaceChildren(this.agentsBody, ...rows);
  }

  async reassign(caseId, agent) {
    if (!agent) {
      this.message.textContent = `Choose the agent to give case #${caseId} to, then Reassign.`;
      return;
    }
    this.choices.delete(caseId);
    try {
      await this.app.api.reassign(caseId, agent);
      this.message.textContent = `Case #${caseId} reassigned to ${agent}.`;
    } catch (error) {
      this.message.textContent = `Could not reassign case #${caseId}: ${error.message}`;
    }
    this.refresh();
  }
}
