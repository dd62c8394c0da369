// The case windows and their tabs: opening one per case (a live event for a case being opened
// waits for it), closing, the active tab, and the tab order kept per agent across reloads.
// Methods of the App (see main.js).

import { CaseWindow } from "./casewin.js";
import { loadIds, saveDraft, saveIds } from "./prefs.js";

const $ = (id) => document.getElementById(id);

export const caseTabs = {
  savedTabOrder() {
    return loadIds("tabs", this.user?.username);
  },

  saveTabOrder() {
    if (this.user) saveIds("tabs", this.user.username, this.order);
  },

  ensureWindow(caseData) {
    let win = this.windows.get(caseData.id);
    if (win) {
      win.setCase(caseData);
      return win;
    }
    win = new CaseWindow(this, caseData);
    this.windows.set(caseData.id, win);
    this.order.push(caseData.id);
    this.saveTabOrder();
    $("tabs").appendChild(win.tab);
    $("tabpanels").appendChild(win.panel);
    this.renderTabs();
    return win;
  },

  async openCase(caseId, { focus = true, caseData = null, notify = false } = {}) {
    let win = this.windows.get(caseId);
    if (!win) {
      // One opening per case: a live event for a case being opened waits for it.
      let opening = this.opening.get(caseId);
      if (!opening) {
        opening = this._createWindow(caseId, caseData, notify)
          .finally(() => this.opening.delete(caseId));
        this.opening.set(caseId, opening);
      }
      win = await opening;
    }
    if (focus) this.activate(caseId);
    return win;
  },

  async _createWindow(caseId, caseData, notify) {
    const detail = caseData || (await this.api.caseDetail(caseId)).case;
    const history = await this.api.messages(caseId);
    const win = this.windows.get(caseId) || this.ensureWindow(detail);
    win.setHistory(history);
    win.render();
    if (notify) win.setUnread(1);
    if (this.active === null) this.activate(caseId);
    return win;
  },

  removeWindow(caseId) {
    const win = this.windows.get(caseId);
    if (!win) return;
    const index = this.order.indexOf(caseId);
    saveDraft(this.user?.username, caseId, ""); // a case that leaves this console keeps none
    this.windows.delete(caseId);
    this.order = this.order.filter((id) => id !== caseId);
    this.saveTabOrder();
    win.tab.remove();
    win.panel.remove();
    if (this.active === caseId) {
      this.active = null;
      const next = this.order[Math.min(index, this.order.length - 1)];
      if (next !== undefined) this.activate(next);
      else if (this.supervisor) this.activate("supervisor");
    }
    this.renderTabs();
  },

  activate(id) {
    this.active = id;
    for (const [winId, win] of this.windows) win.setActive(winId === id);
    this.windows.get(id)?.tab.scrollIntoView({ block: "nearest", inline: "nearest" });
    this.supervisor?.setActive(id === "supervisor");
    this.renderTabs();
  },

  renderTabs() {
    const any = this.windows.size > 0 || this.supervisor;
    $("no-cases").hidden = this.windows.size > 0 || (this.supervisor && this.active === "supervisor");
    $("tabs").hidden = !any;
    if (this.active === null && this.supervisor && this.windows.size === 0) this.activate("supervisor");
  },

  tabIds() {
    return [...(this.supervisor ? ["supervisor"] : []), ...this.order];
  },
};
