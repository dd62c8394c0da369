// Sends that the server has not confirmed yet. Each Send gets a client id once; it is kept
// (also across a page reload, in localStorage) and retried with the same id until the server
// answers, so a dropped connection never loses a Send and a retry never sends a second SMS.

import { ApiError, NetworkError } from "./api.js";
import { randomId } from "./dom.js";

const RETRY_MS = [1000, 2000, 4000, 8000];

export class Outbox {
  /** onChange(caseId) after any change; onConfirmed(item, message) once the server has it. */
  constructor({ api, onChange, onConfirmed }) {
    this.api = api;
    this.onChange = onChange;
    this.onConfirmed = onConfirmed;
    this.items = [];
    this.storageKey = null;
    this.timer = null;
    this.inFlight = new Set();
  }

  /** Load the unconfirmed sends of this user (left by a reload or a crash) and retry them. */
  open(username) {
    this.storageKey = `sms-console-outbox:${username}`;
    try {
      this.items = JSON.parse(localStorage.getItem(this.storageKey) || "[]");
    } catch {
      this.items = [];
    }
    for (const item of this.items) {
      if (item.state === "sending") item.state = "pending";
    }
    this.flush();
  }

  close() {
    clearTimeout(this.timer);
    this.items = [];
    this.storageKey = null;
  }

  _save() {
    if (!this.storageKey) return;
    try {
      localStorage.setItem(this.storageKey, JSON.stringify(this.items));
    } catch {
      // Storage full or disabled: the sends still live in memory until confirmed.
    }
  }

  _changed(caseId) {
    this._save();
    this.onChange(caseId);
  }

  forCase(caseId) {
    return this.items.filter((item) => item.case_id === caseId);
  }

  hasUnconfirmed(caseId) {
    return this.forCase(caseId).length > 0;
  }

  add(caseId, text) {
    const item = {
      client_id: randomId("c-"), case_id: caseId, text, created_at: Date.now(),
      state: "pending", attempts: 0, error: null, code: null, override: false,
    };
    this.items.push(item);
    this._changed(caseId);
    this.flush();
    return item;
  }

  find(clientId) {
    return this.items.find((item) => item.client_id === clientId);
  }

  discard(clientId) {
    const item = this.find(clientId);
    if (!item || this.inFlight.has(clientId)) return;
    this.items = this.items.filter((i) => i !== item);
    this._changed(item.case_id);
  }

  /** Try again now (after an error the agent has read, or with the opt-out confirmed). */
  retry(clientId, { override = false } = {}) {
    const item = this.find(clientId);
    if (!item) return;
    item.state = "pending";
    item.error = null;
    item.code = null;
    if (override) item.override = true;
    this._changed(item.case_id);
    this.flush(true);
  }

  /** Send whatever is due; `now` ignores the backoff (the connection just came back). */
  flush(now = false) {
    clearTimeout(this.timer);
    const busyCases = new Set();
    let nextDue = Infinity;
    for (const item of this.items) {
      // One send in flight per case, oldest first, so the customer gets them in order.
      if (busyCases.has(item.case_id)) continue;
      if (this.inFlight.has(item.client_id)) {
        busyCases.add(item.case_id);
        continue;
      }
      if (item.state !== "pending") {
        busyCases.add(item.case_id);
        continue;
      }
      busyCases.add(item.case_id);
      const due = item.next_at || 0;
      if (now || due <= Date.now()) this._attempt(item);
      else nextDue = Math.min(nextDue, due);
    }
    if (nextDue !== Infinity) {
      this.timer = setTimeout(() => this.flush(), Math.max(50, nextDue - Date.now()));
    }
  }

  async _attempt(item) {
    this.inFlight.add(item.client_id);
    item.attempts += 1;
    item.state = "sending";
    this.onChange(item.case_id);
    try {
      const data = await this.api.send(item.case_id, item.text, item.client_id, item.override);
      this.inFlight.delete(item.client_id);
      this.items = this.items.filter((i) => i !== item);
      this._save();
      this.onConfirmed(item, data.message);
      this.onChange(item.case_id);
      this.flush();
      return;
    } catch (error) {
      this.inFlight.delete(item.client_id);
      if (!this.items.includes(item)) return;
      if (error instanceof ApiError && !retryable(error)) {
        item.state = error.code === "opted_out" ? "confirm" : "rejected";
        item.error = error.message;
        item.code = error.code;
      } else {
        // No answer, a server error, or the session ended: keep it and try again later.
        item.state = "pending";
        item.error = error instanceof NetworkError
          ? "not confirmed yet: no connection to the server, retrying"
          : `not confirmed yet: ${error.message}, retrying`;
        const wait = RETRY_MS[Math.min(item.attempts - 1, RETRY_MS.length - 1)];
        item.next_at = Date.now() + wait;
      }
      this._changed(item.case_id);
      this.flush();
    }
  }
}

function retryable(error) {
  return error.status === 401 || error.status === 408 || error.status === 429 || error.status >= 500;
}
