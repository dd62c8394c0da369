// The console's state and wiring: session, the panel, supervisor view (the live event handlers
// are in live.js and the case windows and tabs in tabs.js, both mixed into App).

import { AdminScreens } from "./admin.js";
import { Alerts, renderSound } from "./alerts.js";
import { FloorView } from "./floor.js";
import { Api, ApiError, NetworkError } from "./api.js";
import { replaceChildren } from "./dom.js";
import { EventStream } from "./events.js";
import { alertNow, announce, clearBanner, flash, setBanner } from "./feedback.js";
import { onShortcut, onTabKey } from "./keys.js";
import { liveEvents } from "./live.js";
import { handBackOrKeep } from "./leave.js";
import { Outbox } from "./outbox.js";
import { forgetDrafts, loadIds, saveIds } from "./prefs.js";
import { RequestList, buildDialpadKeys, lineProblem, renderLines, renderOldest } from "./panel.js";
import { PresenceControl } from "./presence.js";
import { MAX_WINDOW, RequestQueue } from "./queue.js";
import { SearchPanel } from "./search.js";
import { SupervisorView } from "./supervisor.js";
import { caseTabs } from "./tabs.js";
import { refreshTimes } from "./time.js";
import { TransferOffers } from "./transfer.js";

const TITLE = "SMS Console";
const $ = (id) => document.getElementById(id);

class App {
  constructor() {
    this.api = new Api({ onUnauthenticated: () => this.endSession("Your session has expired. Please sign in again.") });
    this.user = null;
    // The oldest waiting requests (a window of the queue) and the whole queue's count.
    this.queue = new RequestQueue({ api: this.api, onChange: (what) => this.renderRequests(what) });
    this.lines = new Map();
    this.windows = new Map();
    this.order = [];
    this.active = null;
    this.supervisor = null;
    this.maxParts = null;
    this.timers = new Map();
    this.knownRequests = new Set();
    this.opening = new Map(); // case id -> the promise of its window being opened
    this.alerts = new Alerts({ onStateChange: () => this.renderSoundButton() });
    this.outbox = new Outbox({
      api: this.api,
      onChange: (caseId) => this.onOutboxChange(caseId),
      onConfirmed: (item, message) => {
        const win = this.windows.get(item.case_id);
        if (win && message) {
          win.merge([message]);
          win.render();
        }
      },
    });
    this.events = new EventStream({
      onEvent: (event) => this.onEvent(event),
      onReady: (info) => this.onStreamReady(info),
      onResync: () => this.loadAll(),
      onDown: () => this.onStreamDown(),
      beforeReconnect: () => this.checkSession(),
    });
    this.requestList = new RequestList($("requests"), {
      onAnswer: (request, action, caseId) => this.answer(request, action, caseId),
    });
    this.transferOffers = new TransferOffers(this);
    this.presence = new PresenceControl(this);
    this.search = new SearchPanel(this);
  }

  // ------------------------------------------------------------ start and session

  async boot() {
    $("login-form").addEventListener("submit", (e) => this.onLogin(e));
    $("logout-button").addEventListener("click", () => this.logout());
    $("sound-button").addEventListener("click", () => this.onSoundButton());
    $("requests-more-button").addEventListener("click", () => this.queue.showMore().catch(() => {}));
    $("dialpad").addEventListener("submit", (e) => this.onDialpad(e));
    $("tabs").addEventListener("keydown", (e) => onTabKey(this, e));
    buildDialpadKeys($("dialpad-keys"), $("dialpad-number"));
    document.addEventListener("keydown", (e) => onShortcut(this, e));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && this.active !== null) this.windows.get(this.active)?.setUnread(0);
    });
    setInterval(() => refreshTimes(document), 1000);
    try {
      const me = await this.api.me();
      await this.startSession(me.user);
    } catch (error) {
      this.showLogin(error instanceof NetworkError ? "The server cannot be reached. Try again in a moment." : "");
    }
  }

  showLogin(message) {
    $("app-view").hidden = true;
    $("login-view").hidden = false;
    $("login-message").textContent = message || "";
    $("login-message").hidden = !message;
    document.title = TITLE;
    $("login-username").focus();
  }

  async onLogin(event) {
    event.preventDefault();
    const button = $("login-submit");
    if ($("login-sound").checked) this.alerts.enable();
    button.disabled = true;
    $("login-message").hidden = true;
    try {
      const data = await this.api.login($("login-username").value.trim(), $("login-password").value);
      $("login-password").value = "";
      await this.startSession(data.user);
    } catch (error) {
      const message = error instanceof ApiError && error.status === 401
        ? "Wrong username or password."
        : error.message;
      $("login-message").textContent = message;
      $("login-message").hidden = false;
      $("login-password").focus();
    } finally {
      button.disabled = false;
    }
  }

  async startSession(user) {
    this.user = user;
    this.queue.user = user;
    this.sessionEnded = false;
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("who-name").textContent = user.username;
    $("who-role").textContent = user.role;
    document.body.dataset.role = user.role;
    if (user.role !== "agent") {
      this.supervisor = new SupervisorView(this);
      $("tabs").prepend(this.supervisor.tab);
      $("tabpanels").prepend(this.supervisor.panel);
      this.supervisor.start();
      this.floor = new FloorView(this);
      this.supervisor.panel.prepend(this.floor.element);
      this.floor.start();
    }
    if (user.role === "admin") this.admin = new AdminScreens(this);
    this.renderSoundButton();
    this.alerts.restore();
    this.events.start();
    await this.loadAll();
    this.renderTabs();
    // After the case windows exist, so unconfirmed sends left by a reload show in their case.
    this.outbox.open(user.username);
  }

  endSession(message) {
    if (this.sessionEnded || !this.user) return;
    this.sessionEnded = true;
    this.events.stop();
    this.outbox.close();
    this.alerts.update([]);
    this.supervisor?.stop();
    this.floor?.stop();
    this.floor = null;
    this.admin?.remove();
    this.admin = null;
    this.supervisor?.tab.remove();
    this.supervisor?.panel.remove();
    this.supervisor = null;
    for (const id of [...this.windows.keys()]) this.removeWindow(id);
    this.queue.reset();
    this.transferOffers.offers.clear();
    this.search.clear();
    this.renderRequests("list");
    this.knownRequests.clear();
    this.user = null;
    replaceChildren($("banners"));
    this.showLogin(message);
  }

  async logout() {
    if (!(await handBackOrKeep(this, $("leave")))) return;
    try {
      await this.api.logout();
    } catch {
      // Logged out locally either way; the session expires on the server.
    }
    forgetDrafts();
    this.endSession("You have logged out.");
  }

  /** Before reconnecting: a 401 ends the session; no answer means keep trying. */
  async checkSession() {
    try {
      await this.api.me();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw error;
    }
  }

  async loadAll() {
    const tasks = [this.refreshRequests(), this.refreshLines(), this.loadMaxParts(), this.loadMyCases(),
      this.transferOffers.load(), this.presence.load()];
    for (const win of this.windows.values()) tasks.push(win.refresh().catch(() => {}));
    await Promise.allSettled(tasks);
    this.supervisor?.refresh();
  }

  async loadMaxParts() {
    const data = await this.api.composePreview("");
    this.maxParts = data.max_parts ?? null;
    for (const win of this.windows.values()) win.setMaxParts(this.maxParts);
  }

  async loadMyCases() {
    const data = await this.api.cases("open", true);
    // The tabs come back in the order the agent had them, so Alt+1 is the same case.
    const saved = this.savedTabOrder();
    const rank = (c) => (saved.includes(c.id) ? saved.indexOf(c.id) : saved.length);
    const cases = [...(data.cases || [])].sort((a, b) => rank(a) - rank(b)
      || (Date.parse(a.opened_at) || 0) - (Date.parse(b.opened_at) || 0) || a.id - b.id);
    const gone = saved.filter((id) => !cases.some((c) => c.id === id) && !this.windows.has(id));
    if (gone.length) {
      this.flash(`While you were away, ${gone.map((id) => `case #${id}`).join(", ")}`
        + ` ${gone.length > 1 ? "were" : "was"} closed or taken over by another agent.`, "info");
    }
    for (const c of cases) {
      if (!this.windows.has(c.id)) await this.openCase(c.id, { focus: false, caseData: c });
    }
    this.saveTabOrder();
  }

  /** A refused Send for a case with no window here (closed, or reassigned) is reported once. */
  onOutboxChange(caseId) {
    const win = this.windows.get(caseId);
    if (win) {
      win.render();
      return;
    }
    for (const item of this.outbox.forCase(caseId)) {
      if (item.state !== "rejected" && item.state !== "confirm") continue;
      const preview = item.text.length > 60 ? `${item.text.slice(0, 60)}…` : item.text;
      this.flash(`Not sent to case #${caseId}: "${preview}" (${item.error})`, "warning");
      this.outbox.discard(item.client_id);
    }
  }

  /** Failed messages an agent chose not to resend: kept in the history, marked as such. */
  discardedMessages() {
    return new Set(loadIds("discarded", this.user?.username));
  }

  discardMessage(id) {
    saveIds("discarded", this.user?.username, [...this.discardedMessages(), id]);
  }

  debounce(key, fn, ms) {
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      Promise.resolve(fn()).catch(() => {});
    }, ms));
  }

  // ------------------------------------------------------------ requests and lines

  /** The requests shown: the oldest of the queue (queue.count says how many wait in all). */
  get requests() {
    return this.queue.requests;
  }

  async refreshRequests() {
    await this.queue.load();
  }

  /** what: "list" when the shown requests changed, "count" when only the count did (a new
   * request beyond the window): then nothing but a few text nodes is touched. */
  renderRequests(what = "list") {
    const { count, requests, oldest } = this.queue;
    if ($("requests-count").textContent !== String(count)) $("requests-count").textContent = String(count);
    $("requests-empty").hidden = count > 0;
    document.title = count ? `(${count}) waiting · ${TITLE}` : TITLE;
    document.body.classList.toggle("ringing", count > 0);
    const more = $("requests-more");
    more.hidden = count <= requests.length;
    $("requests-shown").textContent = `Showing the ${requests.length} oldest of ${count}.`;
    $("requests-more-button").hidden = this.queue.size >= MAX_WINDOW || !this.queue.hasMore;
    // Away, in wrap-up or at the cap: the queue is shown but does not ring; a case offered by
    // transfer rings like a request.
    const offers = this.transferOffers?.asAlerts() || [];
    if (this.presence?.canTake === false) this.alerts.update([], 0);
    else this.alerts.update([...requests, ...offers], count + offers.length);
    if (what !== "list") return;
    renderOldest($("requests-oldest"), oldest, count);
    this.requestList.render(requests);
    for (const request of requests) {
      if (!this.knownRequests.has(request.id)) {
        this.knownRequests.add(request.id);
        this.alert(`${request.name} from ${request.call_id} on line ${request.line ? request.line.name : "?"}: ${request.preview}`);
      }
    }
    this.supervisor?.renderRequests(requests);
  }

  async refreshLines() {
    const data = await this.api.lines();
    const next = new Map();
    for (const line of data.lines || []) next.set(line.id, { ...(this.lines.get(line.id) || {}), ...line });
    this.lines = next;
    this.renderLineStrip();
  }

  renderLineStrip() {
    const lines = [...this.lines.values()].sort((a, b) => a.id - b.id);
    renderLines($("lines"), lines);
    const down = lines.map((line) => [line, lineProblem(line)]).filter(([, problem]) => problem);
    if (down.length) {
      const text = down.map(([line, problem]) =>
        `Line ${line.name}${line.number ? ` (${line.number})` : ""} cannot send: it ${problem};`
        + " replies wait until it is back."
        + `${line.queue_depth ? ` ${line.queue_depth} message part(s) wait in its queue.` : ""}`).join(" ");
      this.setBanner("lines", "error", `⚠ ${text}`);
    } else {
      this.clearBanner("lines");
    }
  }

  // ------------------------------------------------------------ agent actions

  async answer(request, action, caseId) {
    try {
      const data = await this.api.answer(request.id, action, caseId);
      this.queue.remove(request.id);
      const win = this.ensureWindow(data.case);
      win.setHistory(data.history || {});
      win.render();
      this.activate(win.id);
      win.focusComposer();
      this.announce(`Answered. Case #${win.id} with ${data.case.phone} is open.`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        this.flash(`${request.call_id}: ${error.message}`, "warning");
      } else {
        this.flash(`Could not answer ${request.call_id}: ${error.message}`, "error");
      }
      this.refreshRequests().catch(() => {});
    }
  }

  async startChat(phone) {
    const data = await this.api.startChat(phone);
    const win = await this.openCase(data.case.id, { focus: true, caseData: data.case });
    win.focusComposer();
    this.announce(`SMS chat with ${data.case.phone}: case #${data.case.id}.`);
    return win;
  }

  async onDialpad(event) {
    event.preventDefault();
    const input = $("dialpad-number");
    const error = $("dialpad-error");
    error.textContent = "";
    if (!input.value.trim()) {
      error.textContent = "Type a phone number first.";
      input.focus();
      return;
    }
    try {
      await this.startChat(input.value.trim());
      input.value = "";
    } catch (e) {
      error.textContent = e.message;
      input.focus();
    }
  }

  async closeCase(caseId, wrapUp = {}) {
    await this.api.close(caseId, wrapUp);
    this.removeWindow(caseId);
    this.announce(`Case #${caseId} closed.`);
    if (!this.requestList.focusFirst()) $("requests-heading").focus();
  }

  // ------------------------------------------------------------ feedback

  announce(text) { announce(text); }

  alert(text) { alertNow(text); }

  setBanner(key, kind, text, ...extra) { setBanner(key, kind, text, ...extra); }

  clearBanner(key) { clearBanner(key); }

  flash(text, kind = "info") { flash(text, kind); }

  renderSoundButton() {
    renderSound(this, $("sound-button"));
  }

  onSoundButton() {
    if (!this.alerts.soundEnabled) this.alerts.enable();
    else this.alerts.setMuted(!this.alerts.muted);
  }

}

Object.assign(App.prototype, liveEvents, caseTabs);

const app = new App();
window.smsConsole = app; // for the browser tests and for debugging from the devtools
app.boot();
