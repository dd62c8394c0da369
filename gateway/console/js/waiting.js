// Customers waiting for a reply: each case tab shows how long its customer has waited since
// their oldest unanswered text, is marked once that passes cases.reply_overdue_s, and the tabs
// are kept in order of waiting (longest first; cases nobody waits on after them).

import { h, replaceChildren } from "./dom.js";
import { formatWait, parseTime } from "./time.js";

/** Show the case's wait on its tab; called whenever the case's data changes. */
export function applyWaiting(win, caseData) {
  const since = caseData.status === "open" ? parseTime(caseData.waiting_since) : null;
  if (!win.waitBadge) {
    win.waitBadge = h("span", { class: "tab-wait", hidden: true });
    win.tab.appendChild(win.waitBadge);
  }
  win.waitingSince = since;
  win.tab.classList.toggle("customer-waiting", Boolean(caseData.reply_overdue));
  win.waitBadge.hidden = since === null;
  if (since !== null) {
    replaceChildren(win.waitBadge,
      h("span", { "aria-hidden": "true" }, caseData.reply_overdue ? " ⚠ " : " ⏳ "),
      h("span", { class: "visually-hidden" }, " customer waiting "),
      h("span", { dataset: { waitFrom: String(since) } }, formatWait(Date.now() - since)));
  }
  win.app.debounce("sort-tabs", () => sortTabs(win.app), 50);
}

/** Reorder the case tabs (not the supervisor tab) by how long each customer has waited. */
export function sortTabs(app) {
  const order = [...app.order].sort((a, b) => {
    const wa = app.windows.get(a)?.waitingSince ?? Infinity;
    const wb = app.windows.get(b)?.waitingSince ?? Infinity;
    return wa - wb;
  });
  if (order.every((id, i) => id === app.order[i])) return;
  app.order = order;
  const tabs = document.getElementById("tabs");
  for (const id of order) tabs.appendChild(app.windows.get(id).tab);
}

/** Supervisor rows: longest waiting first. */
export function byWaiting(cases) {
  const key = (c) => parseTime(c.waiting_since) ?? Infinity;
  return [...cases].sort((a, b) => key(a) - key(b));
}
